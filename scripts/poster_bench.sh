#!/usr/bin/env bash
# Posters: the held grid against the stream, and one render against shards and a merge, on one
# picture. Each variant runs ROUNDS times, interleaved (the drift of a shared machine stays
# out of the ratios); the best wall time and the largest peak RSS (/usr/bin/time -v) are shown.
#
#   bash scripts/poster_bench.sh [SIZE] [ROUNDS] [SHARDS]     (defaults: 8192 3 8)
#
# A SIZE of 32768 is the gigapixel poster: the held grid then needs some 7 GB.
set -euo pipefail
size=${1:-8192}
rounds=${2:-3}
shards=${3:-8}
root=$(cd "$(dirname "$0")/.." && pwd)
mandel=${MANDEL:-$root/target/release/mandel}
[ -x "$mandel" ] || cargo build --release --locked --quiet --manifest-path "$root/Cargo.toml" -p mandel-cli
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
job=(--width "$size" --height "$size" --max-iter 1000 --quiet)

# Runs `$@`, printing "SECONDS MAXRSS_KB"; a command that fails ends the benchmark.
measure() {
    if ! /usr/bin/time -f '%e %M' -o "$out/time" "$@"; then
        echo "poster_bench.sh: failed ($(head -n 1 "$out/time")): $*" >&2
        kill $$
    fi
    tail -n 1 "$out/time"
}
shards_and_merge() {
    local wall=0 rss=0 t r i
    for i in $(seq 0 $((shards - 1))); do
        read -r t r < <(measure "$mandel" render "${job[@]}" "$@" --shard "$i/$shards" -o "$out/p$i.shard")
        wall=$(awk -v a="$wall" -v b="$t" 'BEGIN { print a + b }')
        rss=$((r > rss ? r : rss))
    done
    read -r t r < <(measure "$mandel" merge --quiet -o "$out/merged.png" "$out"/p*.shard)
    echo "$(awk -v a="$wall" -v b="$t" 'BEGIN { print a + b }') $((r > rss ? r : rss))"
}

declare -A best peak
variants=("held counts" "streamed counts" "held cycle" "streamed cycle" "shards+merge counts")
for _ in $(seq "$rounds"); do
    for v in "${variants[@]}"; do
        read -r how style <<<"$v"
        colour=(--color counts)
        [ "$style" = cycle ] && colour=(--cycle 64)
        case $how in
            held) read -r t r < <(measure "$mandel" render "${job[@]}" "${colour[@]}" --stream never -o "$out/a.png") ;;
            streamed) read -r t r < <(measure "$mandel" render "${job[@]}" "${colour[@]}" --stream always -o "$out/a.png") ;;
            shards+merge) read -r t r < <(shards_and_merge "${colour[@]}") ;;
        esac
        best[$v]=$(awk -v s="$t" -v b="${best[$v]:-inf}" 'BEGIN { print (b == "inf" || s < b) ? s : b }')
        peak[$v]=$(( r > ${peak[$v]:-0} ? r : ${peak[$v]:-0} ))
    done
done
echo "${size}x${size} PNG, max-iter 1000, the seed's view; best of $rounds, $shards shards"
first=${best[${variants[0]}]}
for v in "${variants[@]}"; do
    awk -v v="$v" -v s="${best[$v]}" -v r="${peak[$v]}" -v f="$first" \
        'BEGIN { printf "%-22s %8.2f s  %5.2fx  peak RSS %8.1f MB\n", v, s, f / s, r / 1024 }'
done
