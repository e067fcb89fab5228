#!/usr/bin/env bash
# Load figures for `mandel serve` (README, "Serving"): wrk on loopback against a small render
# (64x64, max-iter 256), 200 connections with the worker cap at 100, process then thread
# isolation, each run bounded in time. Writes docs/bench/serve-*.txt and prints a summary.
#
#   bash scripts/load.sh [SECONDS]      # needs wrk (apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10}
connections=200
cap=100
query='/render?width=64&height=64&max_iter=256'
command -v wrk >/dev/null || { echo "load.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --quiet
mandel=target/release/mandel
out=docs/bench
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

for isolation in process thread; do
    log=$work/$isolation.log
    MANDEL_LOG=info,mandel::access=off $mandel serve --listen 127.0.0.1:0 --max-workers $cap \
        --isolation $isolation --db "$work/$isolation.db" 2>"$log" &
    server=$!
    for _ in $(seq 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
    addr=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -1 | sed 's|listening on http://||')
    {
        echo "# mandel serve --isolation $isolation --max-workers $cap; $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
        echo "# wrk -t2 -c$connections -d${duration}s --latency --timeout 10s http://$addr$query"
        wrk -t2 -c$connections -d"${duration}s" --latency --timeout 10s "http://$addr$query"
        echo "# server metrics after the run"
        curl -s "http://$addr/metrics" | grep -E '^mandel_(http_requests_total|accept_paused_total|connections_accepted_total|workers_failed_total)'
    } | tee "$out/serve-$isolation.txt"
    kill -TERM $server
    wait $server
done

echo
echo "isolation  req/s      p50       p99      errors"
for isolation in process thread; do
    f=$out/serve-$isolation.txt
    rps=$(awk '/^Requests\/sec/ {print $2}' "$f")
    p50=$(awk '$1=="50%" {print $2}' "$f")
    p99=$(awk '$1=="99%" {print $2}' "$f")
    errors=$(awk '/Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} /Non-2xx/ {n += $NF} END {print n + 0}' "$f")
    printf "%-10s %-10s %-9s %-8s %s\n" "$isolation" "$rps" "$p50" "$p99" "${errors:-0}"
done
