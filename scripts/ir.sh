#!/usr/bin/env bash
# Instructions executed by mandel binaries on one render, counted by valgrind's cachegrind
# (Debian package `valgrind`): a figure that, unlike time on a shared machine, does not drift
# between runs, for changes that remove work rather than reorder it. Each render runs on one
# thread, with its output thrown away.
# Usage: bash scripts/ir.sh OLD_BINARY NEW_BINARY... -- RENDER ARGS (without -o and -j)
# e.g.   bash scripts/ir.sh /tmp/mandel-old target/release/mandel -- --width 2000 \
#          --height 2000 --max-iter 50 --xmin -1.5 --xmax 0.5 --ymin -1 --ymax 1
set -euo pipefail
bins=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do bins+=("$1"); shift; done
[ $# -gt 0 ] && shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
first=
for b in "${bins[@]}"; do
  ir=$(valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    "$b" render "$@" -j 1 -o "$out/picture.pbm" 2>&1 |
    sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,)
  first=${first:-$ir}
  awk -v b="$b" -v i="$ir" -v f="$first" 'BEGIN { printf "%-40s %14.0f instructions  %5.3fx\n", b, i, i / f }'
done
