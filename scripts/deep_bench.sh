#!/usr/bin/env bash
# Kalles Fraktaler 2's six benchmark locations, one process per location (so that each peak
# memory figure is its own): docs/bench/deep-*.txt and the README's deep-zoom table.
#
# Usage: bash scripts/deep_bench.sh [SIZE] [DIRECT_PIXELS] [plain|ab]
#   SIZE 1024 by default; DIRECT_PIXELS 16 (a 4×4 grid of pixels checked against direct
#   iteration, the largest square of at most that many); `plain` turns BLA off; `ab` renders each location with BLA and then
#   without it, one after the other (the A/B of BLA in one run, rows marked "BLA" and
#   "plain"; both check the same pixels against direct iteration).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
direct=${2:-16}
mode=${3:-}
case "$mode" in
    "") runs=(on) ;;
    plain) runs=(plain) ;;
    ab) runs=(on plain) ;;
    *) echo "deep_bench.sh: unknown mode '$mode' (plain or ab)" >&2; exit 2 ;;
esac
cargo build --release --locked -q -p mandel --example deep_bench
bench=target/release/examples/deep_bench
locations=../shared/locations/kf2
first=1
for name in 1e14 1e50 5e113 4e533 5e227 1e1086; do
    for run in "${runs[@]}"; do
        arg=""
        [ "$run" = plain ] && arg=plain
        out=$($bench "$locations" "$size" "$direct" "$name" $arg)
        # The header once, then each location's row (marked, in an A/B).
        if [ $first = 1 ]; then
            if [ "$mode" = ab ]; then
                echo "${size}x${size}, both cores, each location with BLA and then without it (plain)"
                echo "$out" | sed -n '2,4p'
            else
                echo "$out" | head -n -1
            fi
            first=0
        fi
        row=$(echo "$out" | tail -n 1)
        if [ "$mode" = ab ]; then
            label=BLA
            [ "$run" = plain ] && label=plain
            row=$(echo "$row" | sed "s/^| $name |/| $name $label |/")
        fi
        echo "$row"
    done
done
