#!/usr/bin/env bash
# HTTP append throughput of a release `chronicle serve`, measured with wrk (a separate C load
# generator on the same machine), keep-alive, 64 connections, durable store. Each run starts a
# fresh server and measures, in the same run and from the same wrk, the raw baseline first
# (`GET /health/live`: the server's HTTP path with no store behind it), then single-event
# POSTs, each to a new stream; the figure is their ratio. Prints each run, then the median and
# range of both rates and of the ratio. Needs wrk (apt-get install wrk).
#
#   scripts/http-load.sh [runs=3] [seconds=8]
#
# CHRONICLE_BINARY names a chronicle binary to use instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
seconds="${2:-8}"
command -v wrk >/dev/null || { echo "http-load: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "http-load: curl is not installed (apt-get install curl)" >&2; exit 1; }
if [ -n "${CHRONICLE_BINARY:-}" ]; then
  binary="$CHRONICLE_BINARY"
else
  swift build -c release --product chronicle >&2
  binary="$(swift build -c release --show-bin-path)/chronicle"
fi
[ -x "$binary" ] || { echo "http-load: $binary is not an executable" >&2; exit 1; }
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# wrk's "Requests/sec", as an integer; fails the script when wrk saw errors or non-2xx answers.
rate() {
  local out
  out="$(wrk -t2 -c64 -d"${seconds}s" "$@")"
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    echo "http-load: wrk reported errors:" >&2; echo "$out" >&2; return 1
  fi
  awk '/Requests\/sec/ {print int($2)}' <<<"$out"
}

live=(); posts=(); ratios=()
for run in $(seq 1 "$runs"); do
  data="$(mktemp -d)"
  "$binary" serve --data "$data/store" --port "$port" 2>"$data/server.log" &
  server=$!
  trap 'kill -TERM "$server" 2>/dev/null || true; rm -rf "$data"' EXIT
  ready=0
  for _ in $(seq 1 300); do
    if curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null; then ready=1; break; fi
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  [ "$ready" = 1 ] || { echo "http-load: the server did not get ready:" >&2; cat "$data/server.log" >&2; exit 1; }
  l="$(rate "http://127.0.0.1:$port/health/live")"
  p="$(rate -s scripts/http-append.lua "http://127.0.0.1:$port")"
  kill -TERM "$server"; wait "$server" || true
  trap - EXIT
  rm -rf "$data"
  r="$(awk -v p="$p" -v l="$l" 'BEGIN {printf "%.3f", p / l}')"
  echo "run $run/$runs: GET /health/live $l requests/s, single-event POSTs $p events/s, ratio $r" >&2
  live+=("$l"); posts+=("$p"); ratios+=("$r")
done

# "median (low–high)" of the arguments.
summary() {
  printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%s (%s–%s)", m, a[1], a[NR]}'
}
echo "baseline-health-live (wrk, 64 connections): median $(summary "${live[@]}") requests/s over $runs runs"
echo "http-append-single (wrk, 64 connections, durable): median $(summary "${posts[@]}") events/s over $runs runs"
echo "http-append-single / baseline-health-live: median $(summary "${ratios[@]}") (target ≥ 0.6)"
