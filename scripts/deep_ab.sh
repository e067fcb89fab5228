#!/usr/bin/env bash
# Two builds of `mandel` on Kalles Fraktaler 2's six benchmark locations, interleaved (A, B,
# A, B, ...) so that both see the same machine, with their outputs compared byte for byte.
#
# Usage: bash scripts/deep_ab.sh A_BINARY B_BINARY [SIZE]     (SIZE 512 by default)
#   e.g. build the older commit in a worktree, copy its target/release/mandel aside, and
#   compare it with this one's.
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1
b=$2
size=${3:-512}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| location | A | B | A/B | same counts |"
echo "|---|---:|---:|---:|---|"
for name in 1e14 1e50 5e113 4e533 5e227 1e1086; do
    times=()
    for which in a b; do
        binary=${!which}
        start=$(date +%s.%N)
        "$binary" render --from "../shared/locations/kf2/$name.kfr" --width "$size" \
            --height "$size" -o "$out/$which.npy" 2>/dev/null
        times+=("$(echo "$(date +%s.%N) - $start" | bc)")
    done
    same=no
    cmp -s "$out/a.npy" "$out/b.npy" && same=yes
    printf "| %s | %.2f s | %.2f s | %.2f | %s |\n" "$name" "${times[0]}" "${times[1]}" \
        "$(echo "${times[0]} / ${times[1]}" | bc -l)" "$same"
done
