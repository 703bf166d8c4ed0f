#!/usr/bin/env bash
# demo.sh: the main job. Installs what is needed, builds and installs lhv,
# starts a throwaway PostgreSQL 15 cluster with lhv preloaded (unix socket
# only), loads Fashion-MNIST, builds an lhv index with its progress shown,
# runs the 10,000 test images as queries and prints build time, recall@10
# against exact results and queries per second; then stops the cluster.
# DEMO_ARGS passes options to bench/demo.py (e.g. "--queries 1000").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
source "$root/scripts/cluster.sh"

dir=$(mktemp -d /tmp/lhv-demo.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
echo "demo: starting a cluster in $dir with shared_preload_libraries = 'lhv'"
# Room in the main segment for the 60,000 x 784 graph (about 200 MB).
lhv_cluster_start "$dir" "lhv.shared_memory_reserved = 512MB"
/usr/bin/python3 "$root/bench/demo.py" --host "$dir" ${DEMO_ARGS:-}
lhv_psql "$dir" -c "SELECT * FROM lhv_memory"
