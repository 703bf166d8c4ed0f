"""demo.py: the main job. Loads Fashion-MNIST into PostgreSQL, builds an lhv
index with its progress shown, runs the 10,000 test images as queries through
a server-side prepared statement, and prints build time, recall@10 against
exact brute-force results, and queries per second.

Usage: python3 bench/demo.py --host SOCKET_DIR [--ef-search 40,100] [--queries N]
"""
import argparse
import threading
import time

import psycopg2

import datasets
from pgcopy import copy_vectors


def connect(host):
    conn = psycopg2.connect(host=host, user="postgres", dbname="postgres")
    conn.autocommit = True
    return conn


def watch_progress(host, stop):
    """Prints pg_stat_progress_create_index while CREATE INDEX runs."""
    conn = connect(host)
    cur = conn.cursor()
    last = None
    while not stop.is_set():
        cur.execute("SELECT phase, tuples_done, tuples_total, blocks_done, blocks_total "
                    "FROM pg_stat_progress_create_index")
        row = cur.fetchone()
        if row:
            phase, tdone, ttotal, bdone, btotal = row
            if phase == "building index: reading table" or phase.startswith("building index: scanning"):
                line = f"  progress: {phase}: block {bdone} of {btotal}, {tdone} vectors"
            else:
                line = f"  progress: {phase}: {tdone} of {ttotal} vectors"
            if line != last:
                print(line, flush=True)
                last = line
        stop.wait(1.0)
    conn.close()


def vector_literal(v):
    return "{" + ",".join(f"{x:g}" for x in v) + "}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True, help="the cluster's unix socket directory")
    parser.add_argument("--ef-search", default="40,100", help="lhv.ef_search values to run")
    parser.add_argument("--queries", type=int, default=10000)
    args = parser.parse_args()

    train, test, train_labels, test_labels = datasets.fashion_mnist()
    test = test[:args.queries]
    print(f"demo: Fashion-MNIST: {len(train)} train vectors, {len(test)} queries, {train.shape[1]} dimensions")

    conn = connect(args.host)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS lhv")
    cur.execute("SELECT lhv_version(), lhv_simd(), current_setting('server_version')")
    version, simd, server = cur.fetchone()
    print(f"demo: lhv {version} ({simd} kernels) on PostgreSQL {server}")

    cur.execute("DROP TABLE IF EXISTS fashion_mnist")
    cur.execute("CREATE TABLE fashion_mnist (id int PRIMARY KEY, v real[] NOT NULL)")
    t0 = time.perf_counter()
    copy_vectors(cur, "fashion_mnist", train)
    cur.execute("ANALYZE fashion_mnist")
    print(f"demo: loaded {len(train)} rows in {time.perf_counter() - t0:.1f} s")

    print("demo: CREATE INDEX fashion_mnist_v ON fashion_mnist USING lhv (v lhv_l2_ops) "
          "WITH (m = 16, ef_construction = 64)")
    stop = threading.Event()
    watcher = threading.Thread(target=watch_progress, args=(args.host, stop))
    watcher.start()
    t0 = time.perf_counter()
    cur.execute("CREATE INDEX fashion_mnist_v ON fashion_mnist USING lhv (v lhv_l2_ops) "
                "WITH (m = 16, ef_construction = 64)")
    build_seconds = time.perf_counter() - t0
    stop.set()
    watcher.join()
    cur.execute("SELECT graph_bytes, total_bytes FROM lhv_memory")
    graph_bytes, total_bytes = cur.fetchone()
    print(f"demo: index built in {build_seconds:.1f} s; graph in shared memory: "
          f"{graph_bytes / 2**20:.1f} MiB")

    print("demo: exact top-10 by brute force (cached after the first run) ...", flush=True)
    truth = datasets.cached_ground_truth("fashion-mnist", train, test, 10, "l2")

    literals = [vector_literal(q) for q in test]
    cur.execute("PREPARE knn(real[]) AS SELECT id FROM fashion_mnist ORDER BY v <-> $1 LIMIT 10")
    cur.execute("SET plan_cache_mode = force_generic_plan")
    cur.execute("EXPLAIN (COSTS OFF) EXECUTE knn(%s)", (literals[0],))
    plan = " / ".join(r[0].strip() for r in cur.fetchall())
    cur.execute("RESET plan_cache_mode")
    print(f"demo: plan: {plan}")

    print()
    print("| lhv.ef_search | recall@10 | queries/s | mean latency ms |")
    print("| ---: | ---: | ---: | ---: |")
    found_by_ef = {}
    for ef in [int(x) for x in args.ef_search.split(",")]:
        cur.execute(f"SET lhv.ef_search = {ef}")
        found = []
        t0 = time.perf_counter()
        for lit in literals:
            cur.execute("EXECUTE knn(%s)", (lit,))
            found.append([r[0] - 1 for r in cur.fetchall()])
        seconds = time.perf_counter() - t0
        recall = datasets.recall_at(found, truth, 10)
        found_by_ef[ef] = found
        print(f"| {ef} | {recall:.4f} | {len(literals) / seconds:.0f} | {1000 * seconds / len(literals):.2f} |")
    print()

    found = next(iter(found_by_ef.values()))
    for i in range(3):
        names = [datasets.CLASS_NAMES[train_labels[j]] for j in found[i]]
        agree = sum(1 for j in found[i] if train_labels[j] == test_labels[i])
        print(f"demo: query {i} is a {datasets.CLASS_NAMES[test_labels[i]]}: "
              f"{agree}/10 neighbours share its class ({', '.join(names[:4])}, ...)")
    conn.close()


if __name__ == "__main__":
    main()
