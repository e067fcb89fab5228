#!/usr/bin/env bash
# Load figures for `mandel serve` (README, "Serving"; docs/serving.md): wrk on loopback, each
# run bounded in time, the worker cap at 100. For each isolation: GET /healthz at 10
# connections, then a small render (64x64, max-iter 256, PNG) at 10 and at 200 connections;
# then the seed-style Python daemon (scripts/seed_daemon.py: ForkingMixIn, cap 100, SQLite)
# on the same render. Writes docs/bench/serve-load.txt (wrk's own output, and the table)
# and prints the table: requests/s, p50, p99, errors (socket errors and non-2xx answers).
#
#   bash scripts/load.sh [SECONDS]      # needs wrk (apt-get install wrk); 8 s a run by default
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-8}
cap=100
render='/render?width=64&height=64&max_iter=256'
command -v wrk >/dev/null || { echo "load.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
cargo build --release --quiet
mandel=target/release/mandel
out=docs/bench/serve-load.txt
mkdir -p docs/bench
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work" 2>/dev/null || rm -rf "$work"' EXIT
table=$work/table
: > "$work/raw"

# Waits for "listening on http://ADDR" in $1 and prints ADDR.
address() {
    for _ in $(seq 100); do
        grep -q 'listening on http://' "$1" 2>/dev/null && break
        sleep 0.1
    done
    grep -o 'listening on http://[0-9.:]*' "$1" | head -1 | sed 's|listening on http://||'
}

# run NAME CONNECTIONS URL: one wrk run, its output kept, its line added to the table.
run() {
    local name=$1 c=$2 url=$3 r
    r=$(wrk -t2 -c"$c" -d"${duration}s" --latency --timeout 10s "$url")
    { echo "## $name, $c connections: wrk -t2 -c$c -d${duration}s --latency --timeout 10s $url"; echo "$r"; echo; } >> "$work/raw"
    echo "$r" | awk -v name="$name" -v c="$c" '
        /^Requests\/sec/ { rps = $2 }
        $1 == "50%" { p50 = $2 }
        $1 == "99%" { p99 = $2 }
        /Socket errors/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
        /Non-2xx/ { errors += $NF }
        END { printf "| %s | %d | %.0f | %s | %s | %d |\n", name, c, rps, p50, p99, errors }' >> "$table"
}

for isolation in process thread; do
    log=$work/$isolation.log
    MANDEL_LOG=info,mandel::access=off $mandel serve --listen 127.0.0.1:0 --max-workers $cap \
        --isolation $isolation --db "$work/$isolation.db" 2>"$log" &
    server=$!
    addr=$(address "$log")
    run "$isolation isolation, /healthz" 10 "http://$addr/healthz"
    run "$isolation isolation, 64x64 render" 10 "http://$addr$render"
    run "$isolation isolation, 64x64 render" 200 "http://$addr$render"
    curl -s "http://$addr/metrics" | grep -E '^mandel_(http_requests_total|workers_failed_total)' >> "$work/raw"
    kill -TERM $server
    wait $server
done

log=$work/seed.log
python3 scripts/seed_daemon.py --port 0 --db "$work/seed.db" --max-workers $cap >"$log" 2>&1 &
addr=$(address "$log")
run "seed-style Python daemon, 64x64 render" 10 "http://$addr$render"
run "seed-style Python daemon, 64x64 render" 200 "http://$addr$render"

{
    echo "# scripts/load.sh $duration on $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
    echo
    echo "| server | connections | requests/s | p50 | p99 | errors |"
    echo "|---|---|---|---|---|---|"
    cat "$table"
    echo
    cat "$work/raw"
} > "$out"
grep '^|' "$out"
