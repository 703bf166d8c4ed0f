"""vacuum_wait.py: how long single-row INSERTs wait while VACUUM repairs a big
lhv graph (issue 9 item 3).

Loads N rows of the low-rank synthetic set (bench/run.py's generator and seed), builds
the lhv index, deletes every D-th row, then runs VACUUM in one connection
while another sends single-row INSERTs (autocommit) as fast as it can and
times each. Prints INSERT latency percentiles before VACUUM (the same client,
same table) and while it runs, VACUUM's time and its repair pass (logged at
DEBUG1: lists rewired, steps, longest step), and the slowest INSERTs with the
VACUUM phases (pg_stat_progress_vacuum, sampled every 5 ms) they overlapped.

Usage: python3 bench/vacuum_wait.py --host SOCKET_DIR [--rows 1000000]
       [--delete-every 10] [--baseline-seconds 10]
"""
import argparse
import threading
import time

import numpy as np
import psycopg2

import datasets
from pgcopy import copy_vectors


def percentiles(ms):
    ms = np.sort(np.asarray(ms))
    pick = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]
    return (f"{len(ms)} INSERTs, median {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms, "
            f"max {ms[-1]:.2f} ms")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--delete-every", type=int, default=10)
    p.add_argument("--baseline-seconds", type=float, default=10)
    a = p.parse_args()
    data = datasets.clustered_lowrank(a.rows + 100_000, 128, 1000, 12, 20240601)
    base, extra = data[:a.rows], data[a.rows:]

    conn = psycopg2.connect(host=a.host, user="postgres", dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS lhv")
    cur.execute("DROP TABLE IF EXISTS vw")
    cur.execute("CREATE TABLE vw (id int PRIMARY KEY, v real[] NOT NULL) WITH (autovacuum_enabled = off)")
    t0 = time.perf_counter()
    copy_vectors(cur, "vw", base)
    print(f"loaded {a.rows} x 128 in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    cur.execute("CREATE INDEX vw_v ON vw USING lhv (v lhv_cosine_ops)")
    print(f"built the index in {time.perf_counter() - t0:.1f} s", flush=True)
    cur.execute(f"DELETE FROM vw WHERE id % {a.delete_every} = 0")
    print(f"deleted {cur.rowcount} rows (every {a.delete_every}th)", flush=True)

    ins = psycopg2.connect(host=a.host, user="postgres", dbname="postgres")
    ins.autocommit = True
    icur = ins.cursor()
    icur.execute("PREPARE ins(int, real[]) AS INSERT INTO vw VALUES ($1, $2)")
    literals = ["{" + ",".join("%.7g" % x for x in v) + "}" for v in extra]
    next_row = [0]

    starts = []

    def insert_one():
        i = next_row[0] % len(literals)
        next_row[0] += 1
        t = time.perf_counter()
        icur.execute("EXECUTE ins(%s, %s)", (a.rows + 1 + next_row[0], literals[i]))
        starts.append(t)
        return 1e3 * (time.perf_counter() - t)

    before = []
    end = time.perf_counter() + a.baseline_seconds
    while time.perf_counter() < end:
        before.append(insert_one())
    print(f"before VACUUM: {percentiles(before)}", flush=True)

    vacuum_result = {}

    def vacuum():
        vconn = psycopg2.connect(host=a.host, user="postgres", dbname="postgres")
        vconn.autocommit = True
        vcur = vconn.cursor()
        vcur.execute("SET client_min_messages = debug1")
        t = time.perf_counter()
        vcur.execute("VACUUM vw")
        vacuum_result["seconds"] = time.perf_counter() - t
        vacuum_result["notices"] = [n.strip() for n in vconn.notices if "repaired" in n]
        vconn.close()

    phases = []  # (time, phase) whenever the phase changes

    def sample_phases():
        sconn = psycopg2.connect(host=a.host, user="postgres", dbname="postgres")
        sconn.autocommit = True
        scur = sconn.cursor()
        last = None
        while thread.is_alive():
            scur.execute("SELECT phase FROM pg_stat_progress_vacuum WHERE relid = 'vw'::regclass")
            row = scur.fetchone()
            phase = row[0] if row else "(none)"
            if phase != last:
                phases.append((time.perf_counter(), phase))
                last = phase
            time.sleep(0.005)
        sconn.close()

    thread = threading.Thread(target=vacuum)
    sampler = threading.Thread(target=sample_phases)
    during = []
    first = len(starts)
    thread.start()
    sampler.start()
    while thread.is_alive():
        during.append(insert_one())
    thread.join()
    sampler.join()
    print(f"during VACUUM ({vacuum_result['seconds']:.1f} s): {percentiles(during)}", flush=True)
    for n in vacuum_result["notices"]:
        print(f"  {n}")
    t0 = phases[0][0] if phases else 0
    print("  VACUUM phases: " + ", ".join(f"{p} at {t - t0:.1f} s" for t, p in phases))

    def phases_during(start, ms):
        end = start + ms / 1e3
        seen = [p for i, (t, p) in enumerate(phases)
                if t < end and (i + 1 == len(phases) or phases[i + 1][0] > start)]
        return ", ".join(seen) or "(none)"

    slowest = sorted(range(len(during)), key=lambda i: -during[i])[:5]
    for i in slowest:
        start = starts[first + i]
        print(f"  slow INSERT: {during[i]:.1f} ms at {start - t0:.1f} s, during: {phases_during(start, during[i])}")
    cur.execute("DROP TABLE vw")


if __name__ == "__main__":
    main()
