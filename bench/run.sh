#!/usr/bin/env bash
# run.sh: the benchmark in one command. Installs what is needed, builds and
# installs lhv, builds stock hnswlib's benchmark (two binaries: -O2 with no
# -march, and -O2 -march=native), starts a throwaway PostgreSQL 15 cluster with
# lhv preloaded (unix socket only), runs bench/run.py and removes the cluster.
#
#   bash bench/run.sh            full run: Fashion-MNIST and 1,000,000 x 128
#   bash bench/run.sh --quick    small subsets, fewer ef values, no 1M set
#
# Other arguments go to bench/run.py (e.g. --datasets fashion-mnist).
# Results: bench/results/latest.json and recall_qps.png (quick.json and
# recall_qps_quick.png with --quick); markdown tables on stdout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)

bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
cmake -S "$root" -B "$root/build-bench" -DLHV_BENCH=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build-bench" --target lhv_hnswlib_bench lhv_hnswlib_bench_native -j"$(nproc)" >/dev/null
echo "bench: built stock hnswlib benchmarks in $root/build-bench"
source "$root/scripts/cluster.sh"

dir=$(mktemp -d /tmp/lhv-bench.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
echo "bench: starting a cluster in $dir with shared_preload_libraries = 'lhv'"
# lhv: room in the main segment for the 1M x 128 graph (about 700 MB) next to
# the 50,000-row INSERT table's graph. pgvector: shared_buffers that hold its
# index and table, maintenance_work_mem that holds its graph while it builds,
# one parallel worker for its build.
lhv_cluster_start "$dir" \
  "lhv.shared_memory_reserved = 1280MB" \
  "lhv.max_shared_memory = 3GB" \
  "shared_buffers = 2GB" \
  "maintenance_work_mem = 2GB" \
  "max_parallel_maintenance_workers = 1" \
  "max_parallel_workers_per_gather = 0" \
  "jit = off"
cd "$root/bench"
/usr/bin/python3 "$root/bench/run.py" --host "$dir" --datadir "$dir/data" \
  --hnswlib "$root/build-bench/lhv_hnswlib_bench" \
  --hnswlib-native "$root/build-bench/lhv_hnswlib_bench_native" "$@"
echo "bench: total $(( $(date +%s) - start )) s"
