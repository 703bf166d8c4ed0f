#!/usr/bin/env bash
# vacuum_wait.sh: single-row INSERT latency while VACUUM repairs the graph of
# a big lhv index (default: the 1M x 128 synthetic set, every 10th row
# deleted), against the same INSERTs before VACUUM. Starts its own throwaway
# cluster; builds and installs lhv unless LHV_SKIP_BUILD is set.
#   bash bench/vacuum_wait.sh [--rows N] [--delete-every D]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ -n "${LHV_SKIP_BUILD:-}" ] || { bash "$root/scripts/install-deps.sh"; bash "$root/scripts/build.sh"; }
source "$root/scripts/cluster.sh"
dir=$(mktemp -d /tmp/lhv-vacuum-wait.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
lhv_cluster_start "$dir" "lhv.shared_memory_reserved = 1280MB" "lhv.max_shared_memory = 3GB" \
  "shared_buffers = 1GB" "maintenance_work_mem = 1GB" "jit = off" ${LHV_VACUUM_WAIT_CONF:+"$LHV_VACUUM_WAIT_CONF"}
cd "$root/bench"
/usr/bin/python3 "$root/bench/vacuum_wait.py" --host "$dir" "$@"
