"""backend_memory.py: each backend's own memory after searching a large lhv
index, measured alone (bench/run.py measures the same within a full run).

    bash bench/backend_memory.sh [--rows 1000000] [--ef 40,400]

The synthetic clustered set of bench/run.py (N x 128, cosine, the same seed),
one lhv index (m 16, ef_construction 64), then 1 and 16 backends that each
connect, prepare the query and search (100 queries in all, at least 20 each),
at each ef_search given (a wider search visits more, and its visited set grows):
per backend, PostgreSQL's memory contexts, lhv's views of graphs
(lhv_backend_memory(): chunk addresses and visited sets, kept outside any
memory context), its RssAnon after the searches and what that grew by since it
connected. Prints the table and writes bench/results/backend_memory.json.
"""
import argparse
import json
import os
import time

import datasets
from pgcopy import copy_vectors
import run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True, help="the cluster's unix socket directory")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ef", default="40,400", help="ef_search values, one measurement each")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = parser.parse_args()

    n, nq, seed = args.rows, 1000, 20240601
    run.log(f"synthetic: generating {n} x 128 (seed {seed}) ...")
    data = datasets.clustered_lowrank(n + nq, 128, 1000, 12, seed)
    base, queries = data[:n], data[n:]
    del data
    table = "mem_synthetic"
    lhv = run.SqlSystem("lhv", "cosine", 128, table)
    conn = run.connect(args.host)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS lhv")
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v real[] NOT NULL)")
    t0 = time.perf_counter()
    copy_vectors(cur, table, base)
    cur.execute(f"VACUUM ANALYZE {table}")
    run.log(f"loaded {n} rows in {time.perf_counter() - t0:.1f} s")
    build = run.timed_build(cur, lhv)
    run.log(f"lhv: built in {build:.1f} s")
    literals = [lhv.literal(q) for q in queries]
    rows = [row for ef in (int(e) for e in args.ef.split(",")) for row in run.lhv_memory(args.host, lhv, literals, ef=ef)]
    cur.execute(f"DROP TABLE {table}")
    conn.close()

    report = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "rows": n, "dim": 128, "ef": args.ef,
              "build_seconds": build, "load_average": os.getloadavg(),
              "command": f"bash bench/backend_memory.sh --rows {n} --ef {args.ef}", "memory": rows}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "backend_memory.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
    print(f"## lhv per-backend memory, {n:,} x 128 cosine, {report['date']}\n")
    print(run.memory_table(rows))
    print(f"JSON: {path}")


if __name__ == "__main__":
    main()
