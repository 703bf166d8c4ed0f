#!/usr/bin/env bash
# demo.sh: the main job. Installs what is needed, builds and installs lhv,
# starts a throwaway PostgreSQL 15 cluster with lhv preloaded (unix socket
# only), shows lhv loaded with its shared memory, then stops the cluster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
source "$root/scripts/cluster.sh"

dir=$(mktemp -d /tmp/lhv-demo.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
lhv_cluster_start "$dir"
echo "demo: cluster started in $dir with shared_preload_libraries = 'lhv'"

lhv_psql "$dir" <<'SQL'
CREATE EXTENSION lhv;
SELECT lhv_version() AS version, lhv_simd() AS distance_kernels;
SELECT * FROM lhv_memory;
SQL
