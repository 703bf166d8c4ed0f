#!/usr/bin/env python3
"""named.py: named indexes measured against the access method and stock hnswlib.

On Fashion-MNIST (60,000 x 784, Euclidean, m = 16, ef_construction = 64):
  1. batch lhv_add: vectors/s in batches of 1,000 (JSON arrays), one client,
     against stock hnswlib's single-thread add_items (python3-hnswlib) and
     against plain INSERT ... SELECT of the same rows into an identical table,
     the three taking turns batch by batch;
  2. lhv_search against the equivalent direct query on the same table
     (SELECT id, embedding <-> $1, metadata ... ORDER BY embedding <-> $1
     LIMIT 10 with SET lhv.ef_search), both as server-side prepared
     statements taking the query once as real[] text, from one psycopg 3
     client, at several ef values: recall@10 against exact ground truth,
     queries/s and mean latency. The two alternate every 50 queries and the
     sweep is repeated; the best of the repeats is kept (shared machines drift);
  3. lhv_export of the index and lhv_import of its bytes (the graph taken
     over, not rebuilt) against a REINDEX of the imported index, which builds
     the same graph from the table, and a check that the import answers as
     the original does.

    python3 bench/named.py --host /tmp/sockdir [--rows 60000] [--queries 1000]
Prints markdown tables and writes bench/results/named.json.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

K = 10
NAME = "fmnist"
CHUNK = 50  # queries per turn when lhv_search and the direct query alternate


def literal(v):
    """A real[] literal for a float32 vector (shortest round-trip text)."""
    return "{" + ",".join(repr(float(x)) for x in v) + "}"


def add_sweep(conn, base, batch):
    """Adds base in batches three ways, batch after batch in turn (the order
    rotating), so that all three meet the same load on a shared machine:
      - lhv_add(name, jsonb) into the named index; the JSON text is made
        before the clock starts, so the server's work is measured (jsonb
        input, checks, INSERT ... ON CONFLICT, graph inserts);
      - plain INSERT ... SELECT of the same rows from a staging table into an
        identical table with the same lhv index (lhv_add's own overhead);
      - stock hnswlib's add_items, one thread, in this process.
    Returns {system: {rows, batch, seconds, vectors_per_second}}."""
    import hnswlib
    conn.execute("SELECT lhv_drop(name) FROM lhv_list() WHERE name = %s", (NAME,))
    conn.execute("SELECT lhv_create(%s, %s, 'euclidean', m => 16, ef_search => 40, ef_construction => 64)",
                 (NAME, base.shape[1]))
    payloads = []
    for start in range(0, len(base), batch):
        items = [{"id": str(start + i), "vector": [float(x) for x in row]}
                 for i, row in enumerate(base[start:start + batch])]
        payloads.append(json.dumps(items))
    conn.execute("DROP TABLE IF EXISTS bench_stage, bench_plain")
    conn.execute("CREATE TABLE bench_stage (n int, id text, embedding real[])")
    with conn.cursor().copy("COPY bench_stage FROM STDIN") as copy:
        for i, row in enumerate(base):
            copy.write_row((i // batch, str(i), literal(row)))
    conn.execute("CREATE INDEX ON bench_stage (n)")
    conn.execute("CREATE TABLE bench_plain (id text PRIMARY KEY, embedding real[] NOT NULL, metadata jsonb)")
    # As lhv_create makes a named index's table (named.h: LHV_NAMED_PLAIN_DIMENSION_MAX).
    storage = "PLAIN" if base.shape[1] <= 1900 else "EXTERNAL"
    conn.execute(f"ALTER TABLE bench_plain ALTER COLUMN embedding SET STORAGE {storage}")
    conn.execute("CREATE INDEX ON bench_plain USING lhv (embedding lhv_l2_ops) WITH (m = 16, ef_construction = 64)")
    index = hnswlib.Index(space="l2", dim=base.shape[1])
    index.init_index(max_elements=len(base), M=16, ef_construction=64, random_seed=100)
    labels = np.arange(len(base))

    def lhv_add(n):
        conn.execute("SELECT lhv_add(%s, %s::jsonb)", (NAME, payloads[n]))

    def plain(n):
        conn.execute("INSERT INTO bench_plain SELECT id, embedding FROM bench_stage WHERE n = %s", (n,))

    def stock(n):
        index.add_items(base[n * batch:(n + 1) * batch], labels[n * batch:(n + 1) * batch], num_threads=1)

    systems = [("lhv_add", lhv_add), ("plain_insert", plain), ("hnswlib_add", stock)]
    secs = {name: 0.0 for name, _ in systems}
    for n in range(len(payloads)):
        for k in range(len(systems)):
            name, run = systems[(n + k) % len(systems)]
            t0 = time.perf_counter()
            run(n)
            secs[name] += time.perf_counter() - t0
    conn.execute("DROP TABLE bench_stage, bench_plain")
    return {name: {"rows": len(base), "batch": batch, "seconds": secs[name],
                   "vectors_per_second": len(base) / secs[name]} for name in secs}


def run_queries(conn, sql, params_for, queries):
    """Runs sql once per query; returns (ids per query, seconds)."""
    found = []
    t0 = time.perf_counter()
    for q in queries:
        rows = conn.execute(sql, params_for(q), prepare=True).fetchall()
        found.append([int(r[0]) for r in rows])
    return found, time.perf_counter() - t0


def search_sweep(conn, queries, truth, efs, repeats):
    """lhv_search against the direct query at each ef: both prepared
    (protocol level), taking the query once, as the same real[] text. The
    two alternate every CHUNK queries (which goes first alternates too), so
    that both meet the same load on a shared machine; best of the repeats."""
    texts = [literal(q) for q in queries]
    # psycopg 3 sends a repeated named placeholder once ($1 twice).
    direct_sql = (f"SELECT t.id, t.embedding <-> %(q)s::real[] AS distance, t.metadata FROM lhv_data.{NAME} t "
                  "ORDER BY t.embedding <-> %(q)s::real[] LIMIT 10")
    named_sql = f"SELECT id, distance, metadata FROM lhv_search('{NAME}', %(q)s::real[], 10, %(ef)s)"
    results = []
    for ef in efs:
        # For the direct query; lhv_search sets lhv.ef_search for its own search only.
        conn.execute(f"SET lhv.ef_search = {ef}")
        best = {}
        for _ in range(repeats):
            found = {"direct": [], "lhv_search": []}
            secs = {"direct": 0.0, "lhv_search": 0.0}
            for c, start in enumerate(range(0, len(texts), CHUNK)):
                chunk = texts[start:start + CHUNK]
                for system in (("direct", "lhv_search") if c % 2 == 0 else ("lhv_search", "direct")):
                    if system == "direct":
                        f, t = run_queries(conn, direct_sql, lambda q: {"q": q}, chunk)
                    else:
                        f, t = run_queries(conn, named_sql, lambda q: {"q": q, "ef": ef}, chunk)
                    found[system] += f
                    secs[system] += t
            for system in found:
                entry = {"ef": ef, "recall": datasets.recall_at(found[system], truth, K),
                         "qps": len(texts) / secs[system], "mean_ms": 1000 * secs[system] / len(texts)}
                if system not in best or entry["qps"] > best[system]["qps"]:
                    best[system] = entry
        conn.execute("RESET lhv.ef_search")
        results.append({"ef": ef, **{s: best[s] for s in best}})
    return results


def export_import(conn, queries):
    """Times lhv_export, lhv_import of its bytes, and a REINDEX of the import
    (the build the import avoids); checks the import answers the same."""
    copy = NAME + "-copy"
    conn.execute("SELECT lhv_drop(name) FROM lhv_list() WHERE name = %s", (copy,))
    t0 = time.perf_counter()
    (size,) = conn.execute("SELECT octet_length(lhv_export(%s))", (NAME,)).fetchone()
    export_secs = time.perf_counter() - t0
    t0 = time.perf_counter()
    (rows,) = conn.execute("SELECT lhv_import(%s, lhv_export(%s))", (copy, NAME)).fetchone()
    import_secs = time.perf_counter() - t0 - export_secs
    search = "SELECT id, distance FROM lhv_search(%s, %s::real[], 10, 40)"
    differing = sum(conn.execute(search, (NAME, literal(q))).fetchall() != conn.execute(search, (copy, literal(q))).fetchall()
                    for q in queries[:200])
    (index,) = conn.execute("SELECT i.indexrelid::regclass::text FROM pg_index i "
                            "WHERE i.indrelid = format('lhv_data.%%I', %s::text)::regclass "
                            "AND i.indexrelid::regclass::text LIKE '%%lhv#%%'", (copy,)).fetchone()
    t0 = time.perf_counter()
    conn.execute(f"REINDEX INDEX {index}")
    reindex_secs = time.perf_counter() - t0
    conn.execute("SELECT lhv_drop(%s)", (copy,))
    return {"bytes": size, "rows": rows, "export_seconds": export_secs, "import_seconds": import_secs,
            "reindex_seconds": reindex_secs, "queries_compared": min(200, len(queries)),
            "queries_differing": differing}


def main():
    parser = argparse.ArgumentParser(description="named indexes vs the access method and hnswlib")
    parser.add_argument("--host", required=True)
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--ef", default="10,20,40,80,160")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "results", "named.json"))
    args = parser.parse_args()

    load_before = os.getloadavg()
    train, test, _, _ = datasets.fashion_mnist()
    base = np.ascontiguousarray(train[:args.rows], dtype=np.float32)
    queries = np.ascontiguousarray(test[:args.queries], dtype=np.float32)
    truth = datasets.cached_ground_truth(f"fashion-mnist-{args.rows}-{args.queries}", base, queries, K, "l2")
    efs = [int(e) for e in args.ef.split(",")]

    with psycopg.connect(f"host={args.host} user=postgres dbname=postgres", autocommit=True) as conn:
        adds = add_sweep(conn, base, args.batch)
        add, plain, hnsw = adds["lhv_add"], adds["plain_insert"], adds["hnswlib_add"]
        print(f"lhv_add: {add['rows']} vectors in batches of {add['batch']}: {add['seconds']:.1f} s, "
              f"{add['vectors_per_second']:.0f} vectors/s", flush=True)
        print(f"plain INSERT ... SELECT of real[] rows, same batches and index: {plain['seconds']:.1f} s, "
              f"{plain['vectors_per_second']:.0f} vectors/s", flush=True)
        print(f"hnswlib add_items, 1 thread: {hnsw['seconds']:.1f} s, {hnsw['vectors_per_second']:.0f} vectors/s",
              flush=True)
        sweep = search_sweep(conn, queries, truth, efs, args.repeats)
        moved = export_import(conn, queries)

    print()
    print("| ef | direct query q/s | direct mean ms | recall | lhv_search q/s | lhv_search mean ms | recall | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in sweep:
        d, n = r["direct"], r["lhv_search"]
        print(f"| {r['ef']} | {d['qps']:.0f} | {d['mean_ms']:.3f} | {d['recall']:.4f} | "
              f"{n['qps']:.0f} | {n['mean_ms']:.3f} | {n['recall']:.4f} | {n['qps'] / d['qps']:.2f} |")
    print()
    print(f"batch lhv_add / hnswlib single-thread: {add['vectors_per_second'] / hnsw['vectors_per_second']:.2f}; "
          f"/ plain INSERT: {add['vectors_per_second'] / plain['vectors_per_second']:.2f}")
    print(f"lhv_export: {moved['bytes'] / 2**20:.0f} MB in {moved['export_seconds']:.2f} s; "
          f"lhv_import of {moved['rows']} items (rows inserted, graph taken over): {moved['import_seconds']:.2f} s; "
          f"building that graph instead (REINDEX of the import) takes {moved['reindex_seconds']:.2f} s more; "
          f"the import answers {moved['queries_compared']} queries as the original "
          f"({moved['queries_differing']} differ)")
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} on {os.cpu_count()} cores")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"rows": args.rows, "queries": args.queries, "lhv_add": add, "plain_insert": plain,
                   "hnswlib_add": hnsw, "export_import": moved,
                   "load_before": load_before, "load_after": load_after,
                   "search": sweep, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
