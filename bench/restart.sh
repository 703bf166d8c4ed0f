#!/usr/bin/env bash
# restart.sh: the time from a server restart to the first answered lhv query,
# without the whole benchmark. Starts a throwaway cluster with bench/run.sh's
# settings (lhv preloaded, unix socket only), builds the index and restarts it
# (bench/restart.py). Uses the lhv installed in $PG_CONFIG's PostgreSQL (run
# scripts/build.sh first).
#
#   bash bench/restart.sh                          Fashion-MNIST, 3 restarts
#   bash bench/restart.sh --datasets synthetic     1,000,000 x 128 (builds for minutes)
#   bash bench/restart.sh --rows 20000 --restarts 5
#   bash bench/restart.sh --perf /tmp/prof         perf record -g of each first query's backend
#
# LHV_RESTART_DIR=DIR keeps the cluster in DIR, stopped (and reuses it next
# time, with its tables and indexes), instead of a temporary one. LHV_RESTART_CONF adds
# postgresql.conf lines (separated by ';') when the cluster is created, e.g.
# LHV_RESTART_CONF="lhv.preload = off".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/cluster.sh"

conf=()
IFS=';' read -r -a extra <<<"${LHV_RESTART_CONF:-}"
for line in "${extra[@]}"; do [ -n "$line" ] && conf+=("$line"); done

if [ -n "${LHV_RESTART_DIR:-}" ]; then
  dir=$LHV_RESTART_DIR
else
  dir=$(mktemp -d /tmp/lhv-restart.XXXXXX)
  trap 'lhv_cluster_stop "$dir"' EXIT
fi
if [ ! -d "$dir/data" ]; then
  echo "restart: starting a cluster in $dir"
  lhv_cluster_start "$dir" \
    "lhv.shared_memory_reserved = 1280MB" \
    "lhv.max_shared_memory = 3GB" \
    "shared_buffers = 2GB" \
    "maintenance_work_mem = 2GB" \
    "jit = off" \
    "${conf[@]}"
elif ! lhv_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" status >/dev/null; then
  lhv_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
fi
echo "restart: load average $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$root/bench"
PG_CONFIG=${PG_CONFIG:-pg_config} /usr/bin/python3 "$root/bench/restart.py" --host "$dir" --datadir "$dir/data" "$@"
echo "restart: load average $(cut -d' ' -f1-3 /proc/loadavg)"
# A kept cluster stays, stopped, for the next run.
[ -n "${LHV_RESTART_DIR:-}" ] && lhv_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
exit 0
