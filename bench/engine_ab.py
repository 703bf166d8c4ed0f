"""engine_ab.py: search speed of lhv's engine in-process at two git revisions
of src/core, on one graph, alternating them on this machine.

    python3 bench/engine_ab.py REV_A REV_B [--data fashion-mnist|synthetic]
                               [--rows N] [--rounds 3] [--ef 10,20,40,80,120]

Each revision's src/core is compiled with bench/engine_bench.cpp from this
tree (-O2, as lhv.so is). The graph is built once, by REV_A, and saved in
hnswlib's layout next to the cached data (reused by later runs); every run of
either revision loads that file, so both search exactly the same graph. Rounds alternate A and B (each run does 3 passes over
the queries per ef and reports the median); the table gives, per ef, the
recall (equal for both unless a change alters results), then queries per
second of the searching thread's CPU time (on this shared machine the wall
clock also counts waiting for a core): the best pass of all rounds (other
jobs only ever slow a pass down, so the best is the steadiest figure) and the
median over rounds, and the median by the wall clock; each with B/A. Also printed: the RssAnon a
process gained while searching (the private memory searches keep).

Data come from bench/datasets.py, cached in /var/tmp/lhv-cache (LHV_CACHE_DIR):
Fashion-MNIST (60,000 x 784, L2, 1,000 test images as queries) or the
synthetic clustered low-rank set (--rows N x 128, cosine, 1,000 queries).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datasets  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def prepare(args, work):
    """Writes base, queries and exact top-10 for the chosen set; returns (paths, space, name)."""
    if args.data == "fashion-mnist":
        train, test, _, _ = datasets.fashion_mnist()
        base, queries = train, test[:1000]
        truth = datasets.cached_ground_truth("fashion-mnist", base, test, 100, "l2")[:1000]
        space, name = "l2", "fashion-mnist"
    else:
        n, nq, seed = args.rows, 1000, 20240601
        data = datasets.clustered_lowrank(n + nq, 128, 1000, 12, seed)
        base, queries = data[:n], data[n:]
        truth = datasets.cached_ground_truth(f"synthetic-lowrank12-{n}x128-s{seed}", base, queries, 100, "cosine")
        space, name = "cosine", f"synthetic-{n}"
    paths = {x: os.path.join(work, f"{x}.bin") for x in ("base", "queries", "truth")}
    datasets.write_f32(paths["base"], base)
    datasets.write_f32(paths["queries"], queries)
    datasets.write_i32(paths["truth"], truth[:, :10])
    return paths, space, name


def build_binary(rev, work, label):
    """Compiles engine_bench.cpp against src/core of `rev`; returns the binary's path."""
    tree = os.path.join(work, f"tree-{label}")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "-f", "-q", "--detach", tree, rev], check=True)
    try:
        binary = os.path.join(work, f"engine_bench-{label}")
        core = os.path.join(tree, "src", "core")
        sources = [os.path.join(core, f) for f in sorted(os.listdir(core)) if f.endswith(".cpp")]
        subprocess.run(["g++", "-std=c++17", "-O2", "-DLHV_VERSION=\"ab\"", "-I", core,
                        os.path.join(ROOT, "bench", "engine_bench.cpp"), *sources, "-lpthread", "-o", binary],
                       check=True)
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree], check=True)
    return binary


def run(binary, paths, space, efs, graph_file):
    cmd = [binary, "--base", paths["base"], "--queries", paths["queries"], "--truth", paths["truth"],
           "--space", space, "--ef", ",".join(map(str, efs)), "--repeats", "3", "--graph-file", graph_file]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev_a")
    parser.add_argument("rev_b")
    parser.add_argument("--data", choices=("fashion-mnist", "synthetic"), default="fashion-mnist")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic set")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ef", default="10,20,40,80,120")
    args = parser.parse_args()
    efs = [int(e) for e in args.ef.split(",")]

    work = tempfile.mkdtemp(prefix="lhv-engine-ab.", dir=datasets.cache_dir())
    try:
        paths, space, name = prepare(args, work)
        binaries = {"A": build_binary(args.rev_a, work, "a"), "B": build_binary(args.rev_b, work, "b")}
        # The graph is kept with the data (m 16, ef_construction 64): later runs reuse it.
        graph_file = os.path.join(datasets.cache_dir(), f"engine-ab-{name}-m16-efc64.hnsw")
        results = {"A": [], "B": []}
        load = os.getloadavg()
        for r in range(args.rounds):
            for label in ("A", "B"):
                results[label].append(run(binaries[label], paths, space, efs, graph_file))
                print(f"round {r + 1}, {label}: " + ", ".join(
                    f"ef {p['ef']} {p['qps_cpu']:.0f}/CPU-s" for p in results[label][-1]["sweep"]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    first = results["A"][0]
    print(f"\n{name}: {first['n']} x {first['dim']} {space}, {first['queries']} queries, one thread, "
          f"simd {first['simd']}; A = {args.rev_a}, B = {args.rev_b}; {args.rounds} rounds; "
          f"load average at start {load[0]:.2f}, at end {os.getloadavg()[0]:.2f}\n")
    print("| ef | recall@10 A | recall@10 B | best queries per CPU-second A | B | B / A "
          "| median per CPU-second A | B | B / A | median queries/s (wall) A | B | B / A |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for i, ef in enumerate(efs):
        med = {(label, key): statistics.median(r["sweep"][i][key] for r in results[label])
               for label in ("A", "B") for key in ("qps", "qps_cpu")}
        best = {label: max(r["sweep"][i]["qps_cpu_best"] for r in results[label]) for label in ("A", "B")}
        print(f"| {ef} | {results['A'][0]['sweep'][i]['recall']:.4f} | {results['B'][0]['sweep'][i]['recall']:.4f} "
              f"| {best['A']:,.0f} | {best['B']:,.0f} | {best['B'] / best['A']:.3f} "
              f"| {med['A', 'qps_cpu']:,.0f} | {med['B', 'qps_cpu']:,.0f} | {med['B', 'qps_cpu'] / med['A', 'qps_cpu']:.3f} "
              f"| {med['A', 'qps']:,.0f} | {med['B', 'qps']:,.0f} | {med['B', 'qps'] / med['A', 'qps']:.3f} |")
    for label in ("A", "B"):
        grown = statistics.median(r["rss_anon_kb_after_search"] - r["rss_anon_kb_before_search"]
                                  for r in results[label])
        print(f"\nRssAnon gained while searching, {label}: {grown:,.0f} kB (median over rounds)", end="")
    print()


if __name__ == "__main__":
    main()
