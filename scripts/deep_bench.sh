#!/usr/bin/env bash
# Kalles Fraktaler 2's six benchmark locations, one process per location (so that each peak
# memory figure is its own): docs/bench/deep-*.txt and the README's deep-zoom table.
#
# Usage: bash scripts/deep_bench.sh [SIZE] [DIRECT_PIXELS] [plain]
#   SIZE 1024 by default; `plain` turns BLA off (the A/B baseline).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
direct=${2:-4}
mode=${3:-}
cargo build --release --locked -q -p mandel --example deep_bench
bench=target/release/examples/deep_bench
locations=../shared/locations/kf2
first=1
for name in 1e14 1e50 5e113 4e533 5e227 1e1086; do
    # The header once, then each location's row.
    if [ $first = 1 ]; then
        $bench "$locations" "$size" "$direct" "$name" $mode
        first=0
    else
        $bench "$locations" "$size" "$direct" "$name" $mode | tail -n 1
    fi
done
