#!/usr/bin/env python3
"""named_cpu.py: the backend CPU time of lhv_search against the same query
written directly, per call, on Fashion-MNIST (60,000 x 784, l2, ef 40).

Wall-clock queries/s on a shared, loaded machine drift by 20% and more
between runs; the CPU time a backend spends per query drifts less, and a
control shows how much: the direct query runs on two connections, so the
difference between those two is the noise. Each system has its own
connection (read from /proc/<pid>/stat, so the server must run on this
host); they take turns over 1,000 queries, 6 rounds, the order reversing
every round. Creates the named index 'fmnist' with lhv_add if it is absent.

    python3 bench/named_cpu.py --host /tmp/sockdir [--rounds 6]
"""
import argparse
import json
import os
import sys
import time

import psycopg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

NAME = "fmnist"
EF = 40


def literal(v):
    """A real[] literal for a float32 vector."""
    return "{" + ",".join(repr(float(x)) for x in v) + "}"


def ensure_index(conn, base):
    """The named index of the benchmark, made with lhv_add if absent."""
    if conn.execute("SELECT count(*) FROM lhv_list() WHERE name = %s", (NAME,)).fetchone()[0]:
        return
    conn.execute("SELECT lhv_create(%s, %s, 'euclidean', m => 16, ef_search => 40, ef_construction => 64)",
                 (NAME, base.shape[1]))
    for start in range(0, len(base), 1000):
        items = [{"id": str(start + i), "vector": [float(x) for x in row]}
                 for i, row in enumerate(base[start:start + 1000])]
        conn.execute("SELECT lhv_add(%s, %s::jsonb)", (NAME, json.dumps(items)))


def backend_cpu_seconds(pid):
    """User + system CPU time of process pid."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    train, test, _, _ = datasets.fashion_mnist()
    texts = [literal(q) for q in test[:1000]]
    direct = (f"SELECT t.id, t.embedding <-> %(q)s::real[] AS distance, t.metadata FROM lhv_data.{NAME} t "
              "ORDER BY t.embedding <-> %(q)s::real[] LIMIT 10")
    systems = {"direct": direct, "direct (control)": direct,
               "lhv_search": f"SELECT id, distance, metadata FROM lhv_search('{NAME}', %(q)s::real[], 10, {EF})"}
    dsn = f"host={args.host} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        ensure_index(conn, train)
    conns = {}
    for name, sql in systems.items():
        conn = psycopg.connect(dsn, autocommit=True)
        conn.execute(f"SET lhv.ef_search = {EF}")
        for t in texts[:200]:  # warm: plans prepared, pages cached
            conn.execute(sql, {"q": t}, prepare=True).fetchall()
        conns[name] = (conn, conn.execute("SELECT pg_backend_pid()").fetchone()[0])
    load_before = os.getloadavg()
    cpu = {name: 0.0 for name in systems}
    wall = {name: 0.0 for name in systems}
    for r in range(args.rounds):
        for name in (list(systems) if r % 2 == 0 else list(systems)[::-1]):
            conn, pid = conns[name]
            c0, t0 = backend_cpu_seconds(pid), time.perf_counter()
            for t in texts:
                conn.execute(systems[name], {"q": t}, prepare=True).fetchall()
            cpu[name] += backend_cpu_seconds(pid) - c0
            wall[name] += time.perf_counter() - t0
    calls = args.rounds * len(texts)
    print(f"| | backend CPU us/call | wall us/call |")
    print(f"|---|---|---|")
    for name in systems:
        print(f"| {name} | {1e6 * cpu[name] / calls:.0f} | {1e6 * wall[name] / calls:.0f} |")
    load_after = os.getloadavg()
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} on {os.cpu_count()} cores")
    for conn, _ in conns.values():
        conn.close()


if __name__ == "__main__":
    main()
