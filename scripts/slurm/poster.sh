#!/bin/bash
# Submits a poster to Slurm: an array of TASKS shard renders, then one merge chained after
# them with afterok. Prints the two job ids.
#
#   scripts/slurm/poster.sh [-n TASKS] [-p PARTS] OUTPUT... -- [mandel render options...]
#
#   scripts/slurm/poster.sh -n 64 poster.png poster.npy -- --width 32768 --height 32768 \
#       --max-iter 5000 --center -0.745,0.11 --zoom 40 --color histogram
#
# Shards: more than the cluster's free CPUs is normal (bands of the set differ widely in
# cost; small shards even the load out). PARTS (default: OUTPUT's name + .parts) holds them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tasks=16
parts=
while getopts "n:p:" opt; do
    case $opt in
        n) tasks=$OPTARG ;;
        p) parts=$OPTARG ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
outputs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
        -*) echo "poster.sh: $1 is not an OUTPUT: put the render options after --" >&2; exit 2 ;;
    esac
    outputs+=("$1")
    shift
done
if [ $# -eq 0 ] || [ ${#outputs[@]} -eq 0 ]; then
    echo "poster.sh: usage: poster.sh [-n TASKS] [-p PARTS] OUTPUT... -- [render options...]" >&2
    exit 2
fi
shift
case $tasks in
    '' | *[!0-9]* | 0) echo "poster.sh: -n $tasks is not a number of tasks (1 or more)" >&2; exit 2 ;;
esac
parts=${parts:-${outputs[0]}.parts}
# Parts of an earlier run would make the merge refuse, but only once the whole array had run.
if compgen -G "$parts/part-*.shard" >/dev/null; then
    echo "poster.sh: $parts already holds parts of a render: remove them, or give -p" >&2
    exit 2
fi

array=$(sbatch --parsable --array=0-$((tasks - 1)) "$here/render.sbatch" "$parts" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes \
    "$here/merge.sbatch" "$parts" "${outputs[@]}")
merge=${merge%%;*}
echo "$array $merge"
