#!/usr/bin/env bash
# backend_memory.sh: each backend's own memory after searching a large lhv
# index (bench/backend_memory.py), on a throwaway cluster with lhv preloaded.
# Builds and installs lhv first (into the PostgreSQL $PG_CONFIG names), unless
# LHV_BENCH_NO_BUILD=1 (to measure the lhv installed there, e.g. an older
# revision installed into another copy of PostgreSQL).
#   bash bench/backend_memory.sh [--rows 1000000] [--ef 40,400]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ "${LHV_BENCH_NO_BUILD:-0}" = 1 ] || bash "$root/scripts/build.sh"
source "$root/scripts/cluster.sh"
dir=$(mktemp -d /tmp/lhv-bench-mem.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
# Room for the 1M x 128 graph (about 700 MB) in the main segment.
lhv_cluster_start "$dir" \
  "lhv.shared_memory_reserved = 1280MB" \
  "lhv.max_shared_memory = 3GB" \
  "maintenance_work_mem = 1GB" \
  "max_parallel_maintenance_workers = 1" \
  "jit = off"
cd "$root/bench"
/usr/bin/python3 "$root/bench/backend_memory.py" --host "$dir" "$@"
