#!/usr/bin/env bash
# named_cpu.sh: backend CPU per call of lhv_search against the direct query
# (bench/named_cpu.py), with the direct query twice as a noise control, on
# Fashion-MNIST. Builds and installs lhv (honouring PG_CONFIG), starts a
# throwaway cluster, removes it.
#   bash bench/named_cpu.sh [--rounds N]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ -n "${LHV_SKIP_BUILD:-}" ] || bash "$root/scripts/build.sh"
source "$root/scripts/cluster.sh"
dir=$(mktemp -d /tmp/lhv-named-cpu.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
lhv_cluster_start "$dir" "lhv.shared_memory_reserved = 512MB" "shared_buffers = 512MB"
lhv_psql "$dir" -q -c "CREATE EXTENSION lhv"
/usr/bin/python3 "$root/bench/named_cpu.py" --host "$dir" "$@"
