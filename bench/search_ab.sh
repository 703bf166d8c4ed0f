#!/usr/bin/env bash
# search_ab.sh: lhv's search through SQL at two installations side by side
# (bench/search_ab.py): one throwaway cluster per PostgreSQL copy, each with
# the lhv installed there (build each revision into its own copy first, as
# bench/insert_ab.sh does, or with PG_CONFIG=<copy> bash scripts/build.sh
# from that revision's tree).
#   bash bench/search_ab.sh PG_CONFIG_A PG_CONFIG_B [--data ...] [--rounds N] [--ef 10,20,40]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
config_a=$1 config_b=$2
shift 2
source "$root/scripts/cluster.sh"
dir_a=$(mktemp -d /tmp/lhv-search-ab-a.XXXXXX)
dir_b=$(mktemp -d /tmp/lhv-search-ab-b.XXXXXX)
trap 'PG_BINDIR=$("$config_a" --bindir) lhv_cluster_stop "$dir_a"; PG_BINDIR=$("$config_b" --bindir) lhv_cluster_stop "$dir_b"' EXIT
settings=("lhv.shared_memory_reserved = 1280MB" "lhv.max_shared_memory = 3GB" "shared_buffers = 1GB"
          "maintenance_work_mem = 1GB" "max_parallel_workers_per_gather = 0" "jit = off")
PG_BINDIR=$("$config_a" --bindir) lhv_cluster_start "$dir_a" "${settings[@]}"
PG_BINDIR=$("$config_b" --bindir) lhv_cluster_start "$dir_b" "${settings[@]}"
cd "$root/bench"
/usr/bin/python3 "$root/bench/search_ab.py" --host-a "$dir_a" --host-b "$dir_b" \
  --label-a "$config_a" --label-b "$config_b" "$@"
