-- wrk script: single-event POSTs, each to a stream of its own (one per request).
-- Used by scripts/http-load.sh; see the README's performance section.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"type":"BenchmarkEvent","data":{"text":"a short payload of about forty bytes...."}}'
end

function request()
  counter = counter + 1
  return wrk.format(nil, "/v1/streams/wrk-" .. id .. "x" .. counter)
end

function response(status, headers, body)
  if status ~= 201 then
    print("unexpected status " .. status .. ": " .. body)
  end
end
