#!/usr/bin/env bash
# Reproduces the README's performance figures on this machine: the seed's workload under every
# pool, job count and kernel, beside the seed's own Python, then the one-core kernel table on
# the 2000x2000 max-iter 5000 workload and the Benchmarks Game workload.
# Usage: bash scripts/bench.sh [OUTDIR]   (default docs/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/bench}
mkdir -p "$out"
cargo build --release --quiet
mandel=target/release/mandel
kernels=scalar,portable,auto

# 1. The seed's comparison: 400x400, max-iter 1000, sequential vs threads vs processes.
"$mandel" bench --kernels "$kernels" --repeat 5 --python \
  --json "$out/seed.json" --csv "$out/seed.csv" --plot "$out/seed.svg" | tee "$out/seed.txt"

# 2. Kernels on one core and on two, 2000x2000 max-iter 5000 (4,332,069,196 iterations),
#    every iteration done (--no-shortcuts): the raw speed, per second and per cycle.
"$mandel" bench --width 2000 --height 2000 --max-iter 5000 --pools sequential,threads \
  --kernels "$kernels" --jobs 2 --repeat 3 --no-shortcuts \
  --json "$out/kernels.json" --csv "$out/kernels.csv" | tee "$out/kernels.txt"
#    The same with the periodic-orbit shortcut that renders use by default.
"$mandel" bench --width 2000 --height 2000 --max-iter 5000 --pools sequential,threads \
  --kernels auto --jobs 2 --repeat 3 | tee "$out/kernels-shortcuts.txt"

# 3. The Benchmarks Game mandelbrot workload, exact counts, written as PBM; peak RSS too.
/usr/bin/time -v "$mandel" render --width 16000 --height 16000 --max-iter 50 \
  --xmin -1.5 --xmax 0.5 --ymin -1 --ymax 1 -o "$out/bg.pbm" 2>&1 \
  | grep -E 'iterations|Maximum resident|Elapsed' | tee "$out/benchmarks-game.txt"
rm -f "$out/bg.pbm"
