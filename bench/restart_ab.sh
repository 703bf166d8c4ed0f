#!/usr/bin/env bash
# restart_ab.sh: restart to first answer for several lhv revisions side by
# side, on one cluster, alternating them ROUNDS times (how bench/README.md's
# before/after figures were measured).
#   bash bench/restart_ab.sh [--rounds N] [--datasets D] [--rows R] VARIANT...
#   bash bench/restart_ab.sh 88a3c24 HEAD@off HEAD@on
# VARIANT is a revision, optionally with @on or @off for lhv.preload (given
# to the server as -c lhv.preload=...; only revisions that have it). Each
# revision is built into its own relocated copy of PostgreSQL 15 under
# /var/tmp/lhv-ab (bench/ab_build.sh); every copy runs the same data
# directory in turn, kept in $LHV_RESTART_DIR (default
# /var/tmp/lhv-ab/restart-cluster), so the data set is loaded and indexed once
# (by the first variant), and kept, stopped, for the next run. Each restart is one
# bench/restart.py --restarts 1. Prints each restart, then per variant and data
# set the median and its ratio to the first variant's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=3 datasets=fashion-mnist rows=0
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --datasets) datasets=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: bash bench/restart_ab.sh [--rounds N] [--datasets D] [--rows R] VARIANT..." >&2; exit 2; }
variants=("$@")
base=/var/tmp/lhv-ab
dir=${LHV_RESTART_DIR:-$base/restart-cluster}
source "$root/bench/ab_build.sh"
source "$root/scripts/cluster.sh"

mkdir -p "$base"
prefixes=()
for i in "${!variants[@]}"; do
  prefixes[$i]=$(lhv_ab_prefix "${variants[$i]%@*}")
  lhv_ab_install "${variants[$i]%@*}" "${prefixes[$i]}"
done
pg_config_of() { echo "${prefixes[$1]}/usr/lib/postgresql/15/bin/pg_config"; }

PG_BINDIR=$(dirname "$(pg_config_of 0)")
if [ ! -d "$dir/data" ]; then
  echo "restart_ab: starting a cluster in $dir"
  mkdir -p "$(dirname "$dir")"
  lhv_cluster_start "$dir" \
    "lhv.shared_memory_reserved = 1280MB" \
    "lhv.max_shared_memory = 3GB" \
    "shared_buffers = 2GB" \
    "maintenance_work_mem = 2GB" \
    "jit = off"
elif ! lhv_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" status >/dev/null; then
  lhv_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
fi

out=$(mktemp -d /tmp/lhv-restart-ab.XXXXXX)
echo "restart_ab: load average $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$root/bench"
for round in $(seq "$rounds"); do
  for i in "${!variants[@]}"; do
    preload=()
    [[ ${variants[$i]} == *@* ]] && preload=(--preload "${variants[$i]##*@}")
    PG_CONFIG=$(pg_config_of "$i") /usr/bin/python3 restart.py --host "$dir" --datadir "$dir/data" \
      --datasets "$datasets" --rows "$rows" --restarts 1 "${preload[@]}" --out "$out/$i-$round.json" >/dev/null
    /usr/bin/python3 - "$out/$i-$round.json" "${variants[$i]}" "$round" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for ds in report["datasets"]:
    r = ds["restarts"][0]
    print(f"round {sys.argv[3]}, {sys.argv[2]}, {ds['name']}: {r['seconds_to_first_answer']:.2f} s to the first answer "
          f"(connected at {r['connected_seconds']:.2f} s; graph from {r['source']})", flush=True)
PY
  done
done
echo "restart_ab: load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$out" "${variants[@]}" <<'PY'
import glob, json, os, statistics, sys
out, variants = sys.argv[1], sys.argv[2:]
medians = {}
for i, v in enumerate(variants):
    times = {}
    for path in sorted(glob.glob(os.path.join(out, f"{i}-*.json"))):
        for ds in json.load(open(path))["datasets"]:
            times.setdefault(ds["name"], []).append(ds["restarts"][0]["seconds_to_first_answer"])
    for name, t in times.items():
        m = statistics.median(t)
        first = medians.setdefault(name, m)
        print(f"{v}, {name}: median {m:.2f} s over {len(t)} restarts ({m / first:.2f} x {variants[0]}); "
              + ", ".join(f"{x:.2f}" for x in t))
PY
rm -rf "$out"
# The cluster stays, stopped, for the next run.
lhv_as_pg "$(dirname "$(pg_config_of 0)")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
