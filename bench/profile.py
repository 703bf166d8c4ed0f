"""profile.py: where an lhv query's time goes, through SQL.

Against a running cluster with lhv preloaded (bench/run.sh's settings or
scripts/demo.sh's), it loads Fashion-MNIST (or the first --rows rows), builds
the lhv index and measures per query, one client, prepared statements:
  - floor: EXECUTE of a statement that only takes the same real[] literal
    (round trip + parsing 784 floats), no search;
  - knn at lhv.ef_search = --ef;
and, with --perf, samples the backend with `perf record -e cpu-clock -g`
during the knn pass and prints the top symbols.

Usage: python3 bench/profile.py --host SOCKET_DIR [--rows N] [--ef 40] [--perf]
"""
import argparse
import os
import subprocess
import time

import psycopg2

import datasets
from pgcopy import copy_vectors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--rows", type=int, default=60000)
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--ef", type=int, default=40)
    p.add_argument("--perf", action="store_true")
    a = p.parse_args()
    train, test, _, _ = datasets.fashion_mnist()
    base = train[:a.rows]
    conn = psycopg2.connect(host=a.host, user="postgres", dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS lhv")
    cur.execute("DROP TABLE IF EXISTS prof")
    cur.execute("CREATE TABLE prof (id int PRIMARY KEY, v real[] NOT NULL)")
    copy_vectors(cur, "prof", base)
    cur.execute("VACUUM ANALYZE prof")
    cur.execute("CREATE INDEX ON prof USING lhv (v lhv_l2_ops) WITH (m = 16, ef_construction = 64)")
    lits = ["{" + ",".join("%.9g" % x for x in q) + "}" for q in test[:a.queries]]
    cur.execute("PREPARE floor(real[]) AS SELECT 1 WHERE $1 IS NOT NULL")
    cur.execute("PREPARE knn(real[]) AS SELECT id FROM prof ORDER BY v <-> $1 LIMIT 10")
    cur.execute(f"SET lhv.ef_search = {a.ef}")
    pid = None
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    for name in ("floor", "knn", "floor", "knn"):
        perf = None
        if a.perf and name == "knn":
            perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-g", "-o", "/tmp/lhv-prof.data",
                                     "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        t0 = time.perf_counter()
        for lit in lits:
            cur.execute(f"EXECUTE {name}(%s)", (lit,))
            cur.fetchall()
        secs = time.perf_counter() - t0
        if perf:
            perf.send_signal(2)
            perf.wait()
            a.perf = False
        print(f"{name}: {1e3 * secs / len(lits):.3f} ms per query ({len(lits) / secs:.0f} q/s)")
    cur.execute("DROP TABLE prof")
    if os.path.exists("/tmp/lhv-prof.data"):
        out = subprocess.run(["perf", "report", "-i", "/tmp/lhv-prof.data", "--no-children", "--stdio",
                              "--sort", "dso,symbol", "-g", "none", "--percent-limit", "1"],
                             capture_output=True, text=True).stdout
        print("\n".join(l for l in out.splitlines() if l.strip() and not l.startswith("#")))


if __name__ == "__main__":
    main()
