"""restart.py: the time from a server restart to the first answered lhv query,
on its own (bench/run.py measures it too, inside the whole benchmark).

For each data set it loads the rows, builds the lhv index (its snapshot is
written by CREATE INDEX), notes the answer of one query, then restarts the
server RESTARTS times. Each restart starts the server without waiting, opens a
connection as soon as one is accepted (polling every 10 ms) and times the first
answered query, checking that it is the answer noted before the restart. It
reports where the graph came from (lhv_indexes.source). With --preload on,off
it alternates restarts with the server's lhv.preload on and off.

bench/restart.sh starts the cluster and calls this; see bench/README.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import psycopg2

import datasets
from pgcopy import copy_vectors


def log(msg):
    print(f"restart: {msg}", file=sys.stderr, flush=True)


def bindir():
    pg_config = os.environ.get("PG_CONFIG", "pg_config")
    return subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout.strip()


def as_postgres(cmd):
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


def pg_ctl(datadir, action, wait=True, options=None):
    cmd = [os.path.join(bindir(), "pg_ctl"), "-D", datadir, "-m", "fast", "-w" if wait else "-W",
           "-l", os.path.join(os.path.dirname(datadir), "server.log")]
    if options:
        cmd += ["-o", options]
    subprocess.run(as_postgres(cmd + [action]), check=True, stdout=subprocess.DEVNULL)


def connect(host, timeout=None):
    """A connection; with a timeout, retries every 10 ms until the server accepts one."""
    deadline = time.perf_counter() + (timeout or 0)
    while True:
        try:
            conn = psycopg2.connect(host=host, user="postgres", dbname="postgres")
            conn.autocommit = True
            return conn
        except psycopg2.OperationalError:
            if timeout is None or time.perf_counter() > deadline:
                raise
            time.sleep(0.01)


def scalar(cur, sql, args=None):
    cur.execute(sql, args)
    return cur.fetchone()[0]


def literal(v):
    return "{" + ",".join("%.9g" % x for x in v) + "}"


def prepare(table, op):
    return f"PREPARE knn(real[]) AS SELECT id FROM {table} ORDER BY v {op} $1 LIMIT 10"


def load_dataset(name, rows):
    """(base, query, metric) of a data set, as bench/run.py builds it."""
    if name == "fashion-mnist":
        train, test, _, _ = datasets.fashion_mnist()
        return train[:rows or len(train)], test[0], "l2"
    if name == "synthetic":
        n = rows or 1_000_000
        data = datasets.clustered_lowrank(n + 1, 128, 1000, 12, 20240601)
        return data[:n], data[n], "cosine"
    raise SystemExit(f"unknown data set {name}")


def build(host, table, base, metric):
    """Loads `base` into `table` and builds its lhv index, unless a kept cluster has them."""
    conn = connect(host)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS lhv")
    index = f"{table}_v"
    if scalar(cur, "SELECT to_regclass(%s) IS NOT NULL", (index,)) and \
            scalar(cur, f"SELECT count(*) FROM {table}") == len(base):
        log(f"{table}: kept from an earlier run ({len(base)} rows)")
        return {}
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, v real[] NOT NULL)")
    t0 = time.perf_counter()
    copy_vectors(cur, table, base)
    cur.execute(f"VACUUM ANALYZE {table}")
    log(f"{table}: loaded {len(base)} rows in {time.perf_counter() - t0:.1f} s")
    ops = {"l2": "lhv_l2_ops", "cosine": "lhv_cosine_ops"}[metric]
    t0 = time.perf_counter()
    cur.execute(f"CREATE INDEX {index} ON {table} USING lhv (v {ops}) WITH (m = 16, ef_construction = 64)")
    seconds = time.perf_counter() - t0
    log(f"{table}: CREATE INDEX (snapshot included) {seconds:.1f} s")
    conn.close()
    return {"build_seconds": seconds}


def restart_once(host, datadir, table, op, query, expected, perf, preload):
    """One restart: seconds from the start command to the answer, and what was seen."""
    pg_ctl(datadir, "stop")
    t0 = time.perf_counter()
    pg_ctl(datadir, "start", wait=False, options=f"-c lhv.preload={preload}" if preload else None)
    conn = connect(host, timeout=60)
    t_connected = time.perf_counter()
    cur = conn.cursor()
    cur.execute(prepare(table, op))
    recorder = None
    if perf:
        pid = scalar(cur, "SELECT pg_backend_pid()")
        recorder = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,32768", "-o", perf, "-p", str(pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # perf needs a moment to attach
        t_connected += 0.5
    t1 = time.perf_counter()
    cur.execute("EXECUTE knn(%s)", (query,))
    first = [r[0] for r in cur.fetchall()]
    t_first = time.perf_counter()
    if recorder:
        recorder.send_signal(2)
        recorder.wait()
    t_second_start = time.perf_counter()
    cur.execute("EXECUTE knn(%s)", (query,))
    cur.fetchall()
    t_second = time.perf_counter()
    cur.execute("SELECT source, state FROM lhv_indexes WHERE index = %s::regclass", (f"{table}_v",))
    source, state = cur.fetchone()
    conn.close()
    if first != expected:
        raise SystemExit(f"restart: {table}: the first answer after the restart differs: {first} vs {expected}")
    wall = t_first - t0 - (0.5 if perf else 0)
    return {"preload": preload or "default", "seconds_to_first_answer": wall, "connected_seconds": t_connected - t0 - (0.5 if perf else 0),
            "first_query_seconds": t_first - t1, "second_query_ms": 1000 * (t_second - t_second_start),
            "source": source, "state": state}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", required=True)
    parser.add_argument("--datadir", required=True)
    parser.add_argument("--datasets", default="fashion-mnist")
    parser.add_argument("--rows", type=int, default=0, help="first N rows only (0: all)")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--preload", default="",
                        help="lhv.preload settings to alternate, e.g. on,off (each restart runs once with each, "
                             "given to the server as -c lhv.preload=...); default: the server's setting")
    parser.add_argument("--perf", help="directory for a perf profile of each first query's backend")
    parser.add_argument("--out", help="JSON file for the results")
    args = parser.parse_args()

    report = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "load_average_at_start": os.getloadavg(),
              "datasets": []}
    for name in args.datasets.split(","):
        base, query_vector, metric = load_dataset(name, args.rows)
        table = f"restart_{name.replace('-', '_')}"
        result = {"name": name, "n": len(base), "dim": base.shape[1], "metric": metric}
        result.update(build(args.host, table, base, metric))
        del base
        op = {"l2": "<->", "cosine": "<=>"}[metric]
        query = literal(query_vector)
        conn = connect(args.host)
        cur = conn.cursor()
        result["snapshot_bytes"] = int(scalar(cur, "SELECT coalesce(sum(length(data)), 0) FROM lhv_snapshot "
                                                   "WHERE index_oid = %s::regclass", (f"{table}_v",)))
        result["preload"] = scalar(cur, "SHOW lhv.preload") if scalar(
            cur, "SELECT count(*) FROM pg_settings WHERE name = 'lhv.preload'") else "absent"
        cur.execute(prepare(table, op))
        cur.execute("EXECUTE knn(%s)", (query,))
        expected = [r[0] for r in cur.fetchall()]
        conn.close()
        result["restarts"] = []
        modes = [m for m in args.preload.split(",") if m] or [None]
        for i in range(args.restarts):
            for mode in modes:
                perf = os.path.join(args.perf, f"{table}-{mode or 'default'}-{i}.data") if args.perf else None
                r = restart_once(args.host, args.datadir, table, op, query, expected, perf, mode)
                log(f"{name}: first answer {r['seconds_to_first_answer']:.2f} s after the start command "
                    f"(lhv.preload {r['preload']}; connected at {r['connected_seconds']:.2f} s, first query "
                    f"{r['first_query_seconds']:.2f} s, second {r['second_query_ms']:.1f} ms; graph from {r['source']})")
                result["restarts"].append(r)
        for mode in modes:
            times = [r["seconds_to_first_answer"] for r in result["restarts"] if r["preload"] == (mode or "default")]
            print(f"{name} ({result['n']} x {result['dim']}, snapshot {result['snapshot_bytes'] / 2**20:.1f} MiB, "
                  f"lhv.preload {mode or result['preload']}): restart to first answer "
                  + ", ".join(f"{t:.2f}" for t in times) + f" s (best {min(times):.2f} s, "
                  f"median {statistics.median(times):.2f} s)", flush=True)
        report["datasets"].append(result)
    report["load_average_at_end"] = os.getloadavg()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
