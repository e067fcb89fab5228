#!/bin/bash
# A poster rendered on a real, throwaway Slurm on this machine, checked against a one-machine
# render. Needs root and Debian's slurm-wlm and munge.
#
#   bash scripts/slurm/demo.sh
#
# Starts munged, slurmctld and two slurmd (nodes n1 and n2, one CPU each) on loopback, from a
# slurm.conf written here; submits an 8-task array of shard renders (scripts/slurm/
# poster.sh) and the merge chained after it; makes one task fail once, to see it requeued;
# waits, with a bound; compares the merged npy and PPM with `mandel render` of the same job
# byte for byte; tears everything down. Exits non-zero on any difference or timeout.
# KEEP=1 keeps the work folder (logs, parts, outputs).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
mandel=${MANDEL:-$root/target/release/mandel}
limit=${DEMO_TIMEOUT:-300}
tasks=8
failing=3
job=(--width 1200 --height 800 --max-iter 3000 --center -0.7435,0.1314 --zoom 90
    --color histogram --colormap magma)

say() { echo "demo: $*" >&2; }
for tool in munged slurmctld slurmd sbatch scontrol squeue python3; do
    command -v "$tool" >/dev/null || { say "$tool is missing (apt-get install slurm-wlm munge)"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { say "slurmd must run as root to start jobs"; exit 1; }
[ -x "$mandel" ] || cargo build --release --locked --quiet --manifest-path "$root/Cargo.toml" -p mandel-cli
# (The jobs run in another folder.)
mandel=$(realpath -e "$mandel")

work=$(mktemp -d /tmp/mandel-slurm.XXXXXX)
# munged wants every folder above its socket searchable by all.
chmod 755 "$work"
daemons=()
cleanup() {
    local status=$?
    if [ ${#daemons[@]} -gt 0 ]; then
        kill "${daemons[@]}" 2>/dev/null || true
        # Bounded: a daemon still alive after 10 s gets SIGKILL.
        local tries=0
        while kill -0 "${daemons[@]}" 2>/dev/null && [ $tries -lt 100 ]; do
            sleep 0.1
            tries=$((tries + 1))
        done
        kill -9 "${daemons[@]}" 2>/dev/null || true
        wait 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ]; then
        say "failed; the last lines of the logs:"
        tail -n 15 "$work"/*.log "$work"/out/*.out >&2 2>/dev/null || true
    fi
    if [ -n "${KEEP:-}" ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# munge: a fresh key, its own socket.
mkdir -m 755 "$work/munge"
head -c 1024 /dev/urandom >"$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
munged -F --key-file="$work/munge/munge.key" --socket="$work/munge/munge.sock" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munged.log" \
    --seed-file="$work/munge/munged.seed" 2>/dev/null &
daemons+=($!)

# (The daemons log to files in the work folder, shown if the demo fails.)
# Three free ports on loopback: slurmctld's and each slurmd's.
read -r ctld_port n1_port n2_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
host=$(hostname -s)
mkdir -p "$work/state" "$work/spool" "$work/out"
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=mandeldemo
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/%n
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd-%n.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
DependencyParameters=kill_invalid_depend
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=3600
NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=$n1_port CPUs=1 State=UNKNOWN
NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=$n2_port CPUs=1 State=UNKNOWN
PartitionName=demo Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
CONF

deadline=$((SECONDS + limit))
# Waits until `$@` succeeds, or fails the demo at the deadline, naming what it waited for.
wait_for() {
    local what=$1
    shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || { say "timed out after ${limit} s waiting for $what"; exit 1; }
        sleep 0.5
    done
}
wait_for "munged" test -S "$work/munge/munge.sock"
slurmctld -D -i 2>/dev/null &
daemons+=($!)
controller_up() { scontrol ping >/dev/null 2>&1; }
wait_for "slurmctld" controller_up
slurmd -D -N n1 2>/dev/null &
daemons+=($!)
slurmd -D -N n2 2>/dev/null &
daemons+=($!)
nodes_idle() { [ "$(sinfo -h -o '%T' -n n1,n2 2>/dev/null | sort -u)" = idle ]; }
wait_for "nodes n1 and n2" nodes_idle
say "Slurm is up: nodes n1 and n2 on 127.0.0.1 (slurmctld port $ctld_port)"

# The tasks run this mandel through a wrapper that makes shard $failing fail once, as a lost
# machine would.
mkdir "$work/bin"
cat >"$work/bin/mandel" <<WRAP
#!/bin/bash
for arg; do
    if [ "\$arg" = "$failing/$tasks" ] && mkdir "$work/failed-once" 2>/dev/null; then
        echo "wrapper: shard $failing/$tasks fails this once, on purpose" >&2
        exit 1
    fi
done
exec "$mandel" "\$@"
WRAP
chmod +x "$work/bin/mandel"

cd "$work/out"
export MANDEL=$work/bin/mandel
read -r array merge < <("$root/scripts/slurm/poster.sh" -n "$tasks" -p "$work/parts" \
    poster.npy poster.ppm poster.png -- "${job[@]}")
say "submitted array job $array ($tasks shard tasks) and merge job $merge (afterok:$array)"

state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1 | cut -d= -f2; }
merge_done() {
    # Slurm holds a requeued task back for two minutes before it may run again; the demo
    # does not wait that out.
    local held
    for held in $( squeue -h -t PD -r -j "$array" -o '%i %r' 2>/dev/null | awk '$2 == "BeginTime" {print $1}'); do
        scontrol update JobId="$held" StartTime=now 2>/dev/null || true
    done
    case $(state "$merge") in
        COMPLETED) return 0 ;;
        FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY)
            say "merge job $merge ended $(state "$merge")"
            exit 1 ;;
        *) return 1 ;;
    esac
}
wait_for "the merge job" merge_done

restarts=$(scontrol show job "${array}_$failing" | grep -o 'Restarts=[0-9]*' | cut -d= -f2)
[ -d "$work/failed-once" ] || { say "shard $failing never failed"; exit 1; }
[ "$restarts" = 1 ] || { say "task ${array}_$failing restarted ${restarts:-?} times, not once"; exit 1; }
say "shard $failing/$tasks failed once, was requeued, and succeeded"

"$mandel" render "${job[@]}" --quiet -o whole.npy
"$mandel" render "${job[@]}" --quiet -o whole.ppm
cmp poster.npy whole.npy
cmp poster.ppm whole.ppm
[ -s poster.png ] || { say "no poster.png"; exit 1; }
say "the merged npy and PPM are byte for byte those of a one-machine render ($(stat -c %s poster.npy) and $(stat -c %s poster.ppm) bytes)"
