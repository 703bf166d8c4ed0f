"""search_ab.py: lhv's search through SQL at two installations (two revisions),
side by side on one machine, alternating them.

    bash bench/search_ab.sh PG_CONFIG_A PG_CONFIG_B [--data fashion-mnist|synthetic]
                            [--rows N] [--rounds 5] [--ef 10,20,40,80]

bench/search_ab.sh starts one throwaway cluster per installation and calls
this with their socket directories. Both get the same table and the same lhv
index (m 16, ef_construction 64, built on one thread, so both graphs are
the same when the engine is); then, round after round, one client per
cluster runs every query three times per ef through a prepared statement
(as bench/run.py does). Figures per ef: recall@10 against the exact top-10,
queries per second of the backend's CPU time (its run time from
/proc/PID/schedstat: on this shared machine the wall clock also counts
waiting for a core), best pass and median over all passes, and the wall
clock's median; each with B/A.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402
import run  # noqa: E402
from pgcopy import copy_vectors  # noqa: E402


def backend_cpu_seconds(pid):
    """Time a server process has run on a CPU, in seconds (/proc/PID/schedstat,
    in nanoseconds: /proc/PID/stat's clock ticks are too coarse for a pass)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def load(args):
    if args.data == "fashion-mnist":
        train, test, _, _ = datasets.fashion_mnist()
        base, queries = train, test[:1000]
        truth = datasets.cached_ground_truth("fashion-mnist", base, test, 100, "l2")[:1000]
        return "fashion-mnist", "l2", base, queries, truth
    n, nq, seed = args.rows, 1000, 20240601
    data = datasets.clustered_lowrank(n + nq, 128, 1000, 12, seed)
    base, queries = data[:n], data[n:]
    truth = datasets.cached_ground_truth(f"synthetic-lowrank12-{n}x128-s{seed}", base, queries, 100, "cosine")
    return f"synthetic-{n}", "cosine", base, queries, truth


def setup(host, system, base):
    conn = run.connect(host)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS lhv")
    cur.execute(f"DROP TABLE IF EXISTS {system.table}")
    cur.execute(f"CREATE TABLE {system.table} (id int PRIMARY KEY, v real[] NOT NULL)")
    copy_vectors(cur, system.table, base)
    cur.execute(f"VACUUM ANALYZE {system.table}")
    cur.execute("SET lhv.build_threads = 1")
    build = run.timed_build(cur, system)
    conn.close()
    return build


def measure(host, system, literals, truth, efs, passes=3):
    """`passes` passes per ef on a fresh connection:
    [(recall, [qps per backend CPU-second], [wall qps])] per ef."""
    conn = run.connect(host)
    cur = conn.cursor()
    cur.execute(system.prepare())
    pid = run.scalar(cur, "SELECT pg_backend_pid()")
    run.run_queries(cur, literals[:200])  # warm-up: plan, view, caches
    out = []
    for ef in efs:
        cur.execute(system.set_ef(ef))
        cpu_qps, wall_qps, recall = [], [], None
        for _ in range(passes):
            cpu0 = backend_cpu_seconds(pid)
            secs, _, found = run.run_queries(cur, literals)
            cpu_qps.append(len(literals) / max(backend_cpu_seconds(pid) - cpu0, 1e-9))
            wall_qps.append(len(literals) / secs)
            if recall is None:
                recall = datasets.recall_at(found, truth, run.K)
        out.append((recall, cpu_qps, wall_qps))
    conn.close()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host-a", required=True)
    parser.add_argument("--host-b", required=True)
    parser.add_argument("--label-a", default="A")
    parser.add_argument("--label-b", default="B")
    parser.add_argument("--data", choices=("fashion-mnist", "synthetic"), default="fashion-mnist")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic set")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ef", default="10,20,40,80")
    args = parser.parse_args()
    efs = [int(e) for e in args.ef.split(",")]

    name, metric, base, queries, truth = load(args)
    hosts = {"A": args.host_a, "B": args.host_b}
    system = run.SqlSystem("lhv", metric, base.shape[1], "ab_items")
    literals = [system.literal(q) for q in queries]
    for label, host in hosts.items():
        run.log(f"{label}: loading {len(base)} rows and building (one thread) ...")
        run.log(f"{label}: built in {setup(host, system, base):.1f} s")
    load_start = os.getloadavg()
    results = {"A": [], "B": []}
    for r in range(args.rounds):
        for label in ("A", "B"):
            results[label].append(measure(hosts[label], system, literals, truth, efs))
            run.log(f"round {r + 1}, {label}: " + ", ".join(
                f"ef {ef} {max(p[1]):.0f}/CPU-s" for ef, p in zip(efs, results[label][-1])))

    print(f"\n{name}: {len(base)} x {base.shape[1]} {metric}, {len(queries)} queries, one client, prepared "
          f"statement; A = {args.label_a}, B = {args.label_b}; {args.rounds} rounds; load average at start "
          f"{load_start[0]:.2f}, at end {os.getloadavg()[0]:.2f}\n")
    print("| ef | recall@10 A | recall@10 B | best queries per backend CPU-second A | B | B / A "
          "| median per CPU-second A | B | B / A | median queries/s (wall) A | B | B / A |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for i, ef in enumerate(efs):
        best = {lb: max(q for rr in results[lb] for q in rr[i][1]) for lb in results}
        cpu = {lb: statistics.median(q for rr in results[lb] for q in rr[i][1]) for lb in results}
        wall = {lb: statistics.median(q for rr in results[lb] for q in rr[i][2]) for lb in results}
        print(f"| {ef} | {results['A'][0][i][0]:.4f} | {results['B'][0][i][0]:.4f} "
              f"| {best['A']:,.0f} | {best['B']:,.0f} | {best['B'] / best['A']:.3f} "
              f"| {cpu['A']:,.0f} | {cpu['B']:,.0f} | {cpu['B'] / cpu['A']:.3f} "
              f"| {wall['A']:,.0f} | {wall['B']:,.0f} | {wall['B'] / wall['A']:.3f} |")


if __name__ == "__main__":
    main()
