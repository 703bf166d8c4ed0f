#!/usr/bin/env bash
# named.sh: the named-index benchmark in one command (bench/named.py): batch
# lhv_add against stock hnswlib's single-thread inserts, lhv_search against the
# same query written directly, on Fashion-MNIST, one client. Builds and
# installs lhv (honouring PG_CONFIG), starts a throwaway cluster, removes it.
#   bash bench/named.sh [--rows N] [--queries N] [--ef 10,20,40] [--repeats N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ -n "${LHV_SKIP_BUILD:-}" ] || bash "$root/scripts/build.sh"
source "$root/scripts/cluster.sh"
dir=$(mktemp -d /tmp/lhv-named-bench.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
lhv_cluster_start "$dir" "lhv.shared_memory_reserved = 512MB" "shared_buffers = 512MB"
lhv_psql "$dir" -q -c "CREATE EXTENSION lhv"
/usr/bin/python3 "$root/bench/named.py" --host "$dir" "$@"
