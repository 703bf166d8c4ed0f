#!/usr/bin/env bash
# storage.sh: measures the STORAGE choices for lhvector columns (plain, main,
# external, extended) on a throwaway cluster: write (COPY, INSERT), size and
# the per-row cost of reading vectors back (bench/storage.py).
#
#   bash bench/storage.sh [--rows N] [--out FILE.json]
#
# Builds and installs lhv first (scripts/build.sh, honouring PG_CONFIG).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/build.sh"
source "$root/scripts/cluster.sh"
dir=$(mktemp -d /tmp/lhv-storage.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
lhv_cluster_start "$dir" "shared_buffers = 1GB" "jit = off" "max_parallel_workers_per_gather = 0"
cd "$root/bench"
/usr/bin/python3 "$root/bench/storage.py" --host "$dir" "$@"
