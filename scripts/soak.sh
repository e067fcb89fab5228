#!/usr/bin/env bash
# A bounded soak of `mandel serve` (README, "Serving"; docs/serving.md): process isolation,
# cap 100, short timeouts; scripts/soak.py mixes good renders, bad parameters, clients that
# trickle their headers, clients that vanish mid-response and SIGKILLs of random workers for
# SECONDS (at most 300), then checks integrity, zombies, that every render answered 200 is
# logged ok, and the metrics. Writes docs/bench/soak.txt; exits 1 if a check failed.
#
#   bash scripts/soak.sh [SECONDS]      # 120 s by default
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
if [ "$seconds" -gt 300 ]; then echo "soak.sh: at most 300 seconds" >&2; exit 2; fi
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work" 2>/dev/null || rm -rf "$work"' EXIT
log=$work/serve.log
MANDEL_LOG=info,mandel::access=off target/release/mandel serve --listen 127.0.0.1:0 \
    --max-workers 100 --db "$work/soak.db" --render-timeout 2 --header-timeout 2 \
    --write-timeout 2 2>"$log" &
server=$!
for _ in $(seq 100); do grep -q 'listening on http://' "$log" 2>/dev/null && break; sleep 0.1; done
addr=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -1 | sed 's|listening on http://||')
mkdir -p docs/bench
status=0
python3 scripts/soak.py "$addr" "$work/soak.db" "$server" "$seconds" >"$work/soak.out" || status=$?
kill -TERM $server
wait $server || true
{
    echo "# scripts/soak.sh $seconds on $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"
    cat "$work/soak.out"
    echo "server log: $(grep -c ' WARN ' "$log" || true) warnings, $(grep -c ' ERROR ' "$log" || true) errors"
} | tee docs/bench/soak.txt
exit $status
