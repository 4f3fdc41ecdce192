#!/usr/bin/env bash
# HTTP append throughput of a release `chronicle serve`, measured with wrk (a separate C load
# generator on the same machine): single-event POSTs, each to a new stream, from 64
# connections, durable store. Prints each run and the median. Needs wrk (apt-get install wrk).
#
#   scripts/http-load.sh [runs=3] [seconds=8]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
seconds="${2:-8}"
command -v wrk >/dev/null || { echo "http-load: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
swift build -c release --product chronicle >&2
binary="$(swift build -c release --show-bin-path)/chronicle"
port=18473
rates=()
for run in $(seq 1 "$runs"); do
  data="$(mktemp -d)"
  "$binary" serve --data "$data" --port "$port" 2>"$data.log" &
  server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.1; done
  sleep 1
  rate="$(wrk -t2 -c64 -d"${seconds}s" -s scripts/http-append.lua "http://127.0.0.1:$port" | awk '/Requests\/sec/ {print int($2)}')"
  kill -TERM "$server"; wait "$server" || true
  rm -rf "$data" "$data.log"
  echo "run $run/$runs: $rate events/s" >&2
  rates+=("$rate")
done
median="$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}')"
echo "http-append-single (wrk, 64 connections, durable): median $median events/s over $runs runs"
