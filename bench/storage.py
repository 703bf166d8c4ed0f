"""storage.py: which STORAGE suits lhvector columns: plain, main, external or
extended. For each, on the same rows, it measures what an application pays:

- write: binary COPY of the rows, and single-row INSERTs (prepared, text
  literal, autocommit);
- size: the table with its TOAST table;
- read: the executor's recomputation of `v <-> q` for every row it returns,
  (a) over the whole table (a sequential scan: cost per row) and (b) for 10
  rows fetched by id, as an index scan returns them (cost per query);
- and, apart from storage, the server's cost of reading one vector from text
  as lhvector and as real[] (every text query vector and INSERT literal pays it).

Two data sets, because compression decides: Fashion-MNIST (784-d, mostly
small integers: compresses) and Gaussian noise (784-d, like real embeddings:
does not). At 784 dimensions a row is 3 KB, above the 2 KB TOAST threshold.

bench/storage.sh starts the cluster and calls this; see bench/README.md.
"""
import argparse
import io
import json
import statistics
import sys
import time

import numpy as np
import psycopg2

import datasets
from pgcopy import binary_copy_data

STORAGES = ("plain", "main", "external", "extended")


def log(msg):
    print(f"storage: {msg}", file=sys.stderr, flush=True)


def literal(v):
    return "[" + ",".join("%.9g" % x for x in v) + "]"


def best_of(n, fn):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def measure(cur, name, storage, vectors, queries, inserts, rounds):
    n, dim = vectors.shape
    table = f"st_{name}_{storage}"
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v lhvector({dim}) NOT NULL)")
    cur.execute(f"ALTER TABLE {table} ALTER COLUMN v SET STORAGE {storage}")
    data = binary_copy_data(np.arange(1, n + 1, dtype=np.int32), vectors, fmt="vector")
    t0 = time.perf_counter()
    cur.copy_expert(f"COPY {table} (id, v) FROM STDIN WITH (FORMAT binary)", io.BytesIO(data))
    copy_s = time.perf_counter() - t0
    cur.execute(f"VACUUM ANALYZE {table}")
    size = int(scalar(cur, f"SELECT pg_total_relation_size('{table}')"))
    toast = int(scalar(cur, f"SELECT coalesce(pg_total_relation_size(reltoastrelid), 0) FROM pg_class "
                            f"WHERE oid = '{table}'::regclass"))
    compressed = int(scalar(cur, f"SELECT count(*) FROM {table} WHERE pg_column_compression(v) IS NOT NULL"))

    # Single-row INSERTs of new ids, prepared, text literal, autocommit.
    cur.execute(f"PREPARE ins_{table}(int, lhvector) AS INSERT INTO {table} VALUES ($1, $2)")
    lits = [literal(v) for v in inserts]
    t0 = time.perf_counter()
    for i, lit in enumerate(lits):
        cur.execute(f"EXECUTE ins_{table}(%s, %s)", (n + 1 + i, lit))
    insert_rate = len(lits) / (time.perf_counter() - t0)
    cur.execute(f"DEALLOCATE ins_{table}")
    cur.execute(f"VACUUM ANALYZE {table}")

    q = literal(queries[0])
    # (a) every row: detoast + distance per row, sequential scan, warm cache.
    cur.execute(f"PREPARE scan_{table}(lhvector) AS SELECT sum(v <-> $1) FROM {table}")
    cur.execute(f"EXECUTE scan_{table}(%s)", (q,))  # warm
    scan_min, scan_med = best_of(rounds, lambda: cur.execute(f"EXECUTE scan_{table}(%s)", (q,)))
    rows = n + len(lits)
    # (b) 10 rows by id per query (an index scan's heap fetches and recomputations).
    rng = np.random.default_rng(7)
    id_sets = [sorted(int(i) + 1 for i in rng.choice(n, 10, replace=False)) for _ in range(len(queries))]
    qlits = [literal(v) for v in queries]
    cur.execute(f"PREPARE ten_{table}(int[], lhvector) AS SELECT id, v <-> $2 FROM {table} WHERE id = ANY($1)")
    cur.execute(f"PREPARE ten_base_{table}(int[], lhvector) AS SELECT id FROM {table} WHERE id = ANY($1) "
                f"AND $2 IS NOT NULL")

    def ten(stmt):
        for ids, ql in zip(id_sets, qlits):
            cur.execute(f"EXECUTE {stmt}(%s, %s)", (ids, ql))
            cur.fetchall()

    ten(f"ten_{table}")  # warm
    ten_s = []
    base_s = []
    for _ in range(rounds):  # interleaved, so load drifts hit both alike
        t0 = time.perf_counter()
        ten(f"ten_{table}")
        ten_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ten(f"ten_base_{table}")
        base_s.append(time.perf_counter() - t0)
    per_query_us = 1e6 * min(ten_s) / len(queries)
    base_us = 1e6 * min(base_s) / len(queries)
    cur.execute(f"DROP TABLE {table}")
    res = {"data": name, "storage": storage, "rows": n, "dim": dim, "copy_seconds": copy_s,
           "copy_rows_per_second": n / copy_s, "insert_rows_per_second": insert_rate,
           "table_bytes": size, "toast_bytes": toast, "rows_compressed": compressed,
           "scan_us_per_row": 1e6 * scan_min / rows, "scan_us_per_row_median": 1e6 * scan_med / rows,
           "ten_rows_us_per_query": per_query_us, "ten_rows_without_distance_us": base_us,
           "ten_rows_recompute_us": per_query_us - base_us}
    log(f"{name} {storage}: COPY {res['copy_rows_per_second']:.0f} rows/s, INSERT {insert_rate:.0f}/s, "
        f"{size / 2**20:.1f} MiB ({compressed} compressed), scan {res['scan_us_per_row']:.2f} us/row, "
        f"10 rows {per_query_us:.0f} us/query ({res['ten_rows_recompute_us']:.0f} us for the distances)")
    return res


def measure_input(cur, name, vectors, rounds):
    """Server-side cost of reading one vector from text: lhvector_in against
    real[]'s array_in, on the same numbers (the query vector of every knn
    query, and every INSERT with a text literal, pays it)."""
    cur.execute("DROP TABLE IF EXISTS st_literals")
    cur.execute("CREATE TABLE st_literals (vec text, arr text)")
    body = [",".join("%.9g" % x for x in v) for v in vectors]
    cur.executemany("INSERT INTO st_literals VALUES (%s, %s)", [("[" + b + "]", "{" + b + "}") for b in body])
    cur.execute("VACUUM ANALYZE st_literals")
    sqls = {"lhvector": "SELECT sum(lhvector_dims(vec::lhvector)) FROM st_literals",
            "real[]": "SELECT sum(array_length(arr::real[], 1)) FROM st_literals",
            "none": "SELECT sum(length(vec)) FROM st_literals"}
    best = {}
    for _ in range(rounds):  # interleaved
        for key, sql in sqls.items():
            t0 = time.perf_counter()
            cur.execute(sql)
            t = time.perf_counter() - t0
            best[key] = min(best.get(key, t), t)
    cur.execute("DROP TABLE st_literals")
    n = len(vectors)
    res = {"data": name, "vectors": n, "lhvector_us": 1e6 * (best["lhvector"] - best["none"]) / n,
           "real_array_us": 1e6 * (best["real[]"] - best["none"]) / n}
    log(f"{name}: text input per 784-d vector: lhvector {res['lhvector_us']:.1f} us, "
        f"real[] {res['real_array_us']:.1f} us")
    return res


def scalar(cur, sql):
    cur.execute(sql)
    return cur.fetchone()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--inserts", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", help="JSON file for the results")
    args = parser.parse_args()

    conn = psycopg2.connect(host=args.host, user="postgres", dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS lhv")
    n, m, nq = args.rows, args.inserts, args.queries
    train, test, _, _ = datasets.fashion_mnist()
    rng = np.random.default_rng(20241202)
    sets = {
        "fashion-mnist": (train[:n], test[:nq], train[n:n + m]),
        "gaussian": tuple(rng.normal(0.0, 1.0, size=(k, 784)).astype(np.float32) for k in (n, nq, m)),
    }
    results = []
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    log(f"load average at start: {' '.join(load)}")
    for name, (base, queries, inserts) in sets.items():
        for storage in STORAGES:
            results.append(measure(cur, name.replace("-", "_"), storage, base, queries, inserts, args.rounds))
    inputs = [measure_input(cur, name, base[:2000], args.rounds) for name, (base, _, _) in sets.items()]
    with open("/proc/loadavg") as f:
        load_end = f.read().split()[:3]

    print(f"\n{n:,} rows x 784 per table; {m:,} single-row INSERTs; reads best of {args.rounds}; "
          f"load average {' '.join(load)} at start, {' '.join(load_end)} at end\n")
    print("| data | storage | COPY rows/s | INSERT rows/s | MiB (TOAST) | rows compressed | "
          "scan us/row | 10 rows by id, us/query | of which distances |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['data']} | {r['storage']} | {r['copy_rows_per_second']:,.0f} | "
              f"{r['insert_rows_per_second']:,.0f} | {r['table_bytes'] / 2**20:.1f} "
              f"({r['toast_bytes'] / 2**20:.1f}) | {r['rows_compressed']:,} | {r['scan_us_per_row']:.2f} | "
              f"{r['ten_rows_us_per_query']:.0f} | {r['ten_rows_recompute_us']:.0f} |")
    print("\n| data | text input of one 784-d vector, lhvector | the same as real[] | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for r in inputs:
        print(f"| {r['data']} | {r['lhvector_us']:.1f} us | {r['real_array_us']:.1f} us | "
              f"{r['real_array_us'] / r['lhvector_us']:.1f}x |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d %H:%M %Z"), "load_start": load, "load_end": load_end,
                       "results": results, "text_input": inputs}, f, indent=1)


if __name__ == "__main__":
    main()
