#!/usr/bin/env bash
# A/B timing of mandel binaries on one render: the binaries run interleaved, ROUNDS times each,
# and each one's best render time (as `mandel render` reports it) is printed with its speed-up
# over the first. Interleaving keeps the drift of a shared machine out of the ratios.
# Usage: bash scripts/ab.sh ROUNDS OLD_BINARY NEW_BINARY... -- RENDER ARGS (without -o)
# The picture is written as PBM (streamed), or as AB_FORMAT (e.g. npy) if that is set.
# e.g.   bash scripts/ab.sh 5 /tmp/mandel-old target/release/mandel -- --width 2000 \
#          --height 2000 --max-iter 5000 --no-shortcuts -j 1
set -euo pipefail
rounds=$1
shift
bins=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do bins+=("$1"); shift; done
[ $# -gt 0 ] && shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A best
for _ in $(seq "$rounds"); do
  for b in "${bins[@]}"; do
    s=$("$b" render "$@" -o "$out/picture.${AB_FORMAT:-pbm}" 2>&1 | sed -n 's/.* in \([0-9.]*\) s.*/\1/p')
    best[$b]=$(awk -v s="$s" -v b="${best[$b]:-inf}" 'BEGIN { print (b == "inf" || s < b) ? s : b }')
  done
done
first=${best[${bins[0]}]}
for b in "${bins[@]}"; do
  awk -v b="$b" -v s="${best[$b]}" -v f="$first" 'BEGIN { printf "%-40s %8.3f s  %5.2fx\n", b, s, f / s }'
done
