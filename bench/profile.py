"""profile.py: where an lhv query's time goes, through SQL.

Against a running cluster with lhv preloaded (bench/run.sh's settings or
scripts/demo.sh's), it loads Fashion-MNIST (or the first --rows rows) into a
table whose column is --type, builds an index and measures per query, one
client, prepared statements with text parameters (as bench/run.py does):
  - floor: EXECUTE of a statement that only takes the same literal
    (round trip + parsing 784 floats), no search;
  - knn at ef_search = --ef.
With --perf it samples the backend with `perf record -e cpu-clock` during a
knn pass, and prints the backend's time per query split by where it goes
(search, heap fetch, the executor's distance, input, per-scan setup, ...),
in microseconds: the share of samples times the wall time per query.

With --insert N it profiles single-row INSERTs instead, as bench/run.py
times them: the index holds the first 50,000 rows (or --rows), then rows
50,001.. are inserted one by one, autocommit, through a prepared statement
with text parameters; the breakdown then splits a row's backend CPU (graph
insert, change log, WAL and commit, heap and primary key, input, ...).

Types: real[] (lhv_l2_ops), lhvector (STORAGE PLAIN, lhvector_l2_ops),
vector (pgvector's type, lhv_pgvector's lhv_vector_l2_ops) and
pgvector (pgvector's type and its own hnsw index, for comparison).

Usage: python3 bench/profile.py --host SOCKET_DIR [--type lhvector] [--rows N]
       [--queries N] [--ef 40] [--perf [--inclusive F1,F2]] [--insert N]
"""
import argparse
import os
import subprocess
import time

import psycopg2

import datasets
from pgcopy import copy_vectors

TYPES = {
    # column type, storage, extension(s), index method and operator class, ef setting
    "real[]": ("real[]", None, ["lhv"], "lhv (v lhv_l2_ops)", "lhv.ef_search"),
    "lhvector": ("lhvector", "PLAIN", ["lhv"], "lhv (v lhvector_l2_ops)", "lhv.ef_search"),
    "vector": ("vector", None, ["lhv", "vector", "lhv_pgvector"], "lhv (v lhv_vector_l2_ops)", "lhv.ef_search"),
    "pgvector": ("vector", None, ["vector"], "hnsw (v vector_l2_ops)", "hnsw.ef_search"),
}

# Where a sampled symbol's time belongs, first match wins (substrings of the
# symbol name; the DSO decides for the kernel and libc).
CATEGORIES = [
    ("search: distance kernels", ("l2_squared", "inner_product", "cosine_", "vector_l2_squared", "L2Squared")),
    ("search: graph walk (layers, visited set, candidates)",
     ("search_layer", "descend", "VisitedSet", "HnswGraph", "hnsw_", "Hnsw", "lhv_graph_search",
      "HnswSearch", "HnswLoadElement", "HnswGetNeighbors", "pairingheap", "tidhash", "lhv::")),
    ("executor's ORDER BY distance (per returned row)",
     ("lhvector_l2_distance", "lhv_l2_distance", "squared_l2_sum", "vector_l2_distance", "l2_distance",
      "pglz_decompress", "detoast", "toast_")),
    ("query input (text to vector)",
     ("lhvector_in", "array_in", "float4in", "strtof", "strtod", "vector_in", "float_in", "parse_float",
      "__strtof", "____strtof", "round_and_return", "str_to_mpn", "mpn_", "ReadArray", "fast_float",
      "lhv_parse", "text_to_float")),
    ("heap fetch and visibility",
     ("heapam_index_fetch", "heap_hot_search", "heap_page_prune", "ReadBuffer", "HeapTupleSatisfies",
      "LockBuffer", "ReleaseBuffer", "index_fetch_heap", "BufTableLookup", "hash_search_with_hash_value",
      "PinBuffer", "UnpinBuffer", "heap_getnext", "slot_deform", "tts_buffer", "ExecStoreBuffer",
      "XidInMVCCSnapshot", "TransactionIdIsInProgress", "heapam_")),
    ("per-scan setup and index scan calls",
     ("lhv_begin_scan", "lhv_rescan", "lhv_get_tuple", "lhv_end_scan", "lhv_scan", "index_beginscan",
      "index_rescan", "index_getnext", "index_endscan", "RelationGetIndexScan", "lhv_graph_open",
      "lhv_vector_from", "hash_create", "AllocSetContextCreate", "lhv_view", "hnswbeginscan",
      "hnswrescan", "hnswgettuple", "hnswendscan")),
]

# The same for a single-row INSERT.
INSERT_CATEGORIES = [
    ("graph insert (search for neighbours, links)",
     ("l2_squared", "inner_product", "cosine_", "L2Squared", "vector_l2_squared", "search_layer", "descend",
      "select_neighbours", "add_back_link", "link_new_element", "HnswGraph", "lhv::", "Hnsw", "hnsw",
      "pairingheap", "tidhash", "CheckElementCloser", "CompareCandidate")),
    ("index pages' WAL (GenericXLog: lhv's change log, pgvector's graph pages)",
     ("lhv_log_", "change_log", "new_log_page", "GenericXLog")),
    ("WAL records and commit", ("XLog", "xlog", "pg_comp_crc32c", "RecordTransactionCommit", "CommitTransaction",
                                "log_heap", "XactLog")),
    ("heap and primary key insert", ("heap_insert", "RelationGetBufferForTuple", "_bt_", "btinsert", "PageAddItem",
                                     "heap_prepare_insert", "ExecInsertIndexTuples", "toast_", "heap_form_tuple",
                                     "mdextend", "smgrextend")),
    # pgvector's graph lives in shared buffers: most of these are its reads of it.
    ("shared buffers (lookups, pins, content locks)",
     ("ReadBuffer", "hash_search_with_hash_value", "BufTableLookup", "LockBuffer", "PinBuffer", "UnpinBuffer",
      "ReleaseBuffer", "LWLockAcquire", "LWLockRelease", "MarkBufferDirty")),
    ("input (the EXECUTE's literal and the vector)",
     ("lhvector_in", "array_in", "float4in", "strtof", "vector_in", "core_yylex", "lhv_parse", "ReadArray",
      "____strtof", "round_and_return", "str_to_mpn", "mpn_", "lhvector_apply_typmod", "lhvector_from")),
]


def category(dso, symbol, categories=CATEGORIES):
    for name, needles in categories:
        if any(n in symbol for n in needles):
            return name
    if "kernel" in dso:
        return "kernel (socket I/O, scheduling)"
    if dso.startswith("libc"):
        return "libc (memcpy, malloc, ...)"
    return "rest of PostgreSQL (protocol, parse/bind, executor, memory contexts)"


def cpu_ns(pid):
    """CPU time the process has run, in ns (the first field of /proc/PID/schedstat)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def breakdown(data, per_query_us, categories=CATEGORIES, unit="query"):
    """Samples of the backend grouped by category, as microseconds of its CPU per query (or row)."""
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--sort", "dso,symbol",
                          "-g", "none", "--percent-limit", "0", "--field-separator", "\t"],
                         capture_output=True, text=True).stdout
    shares, top = {}, []
    for line in out.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        pct = float(parts[0].strip().rstrip("%"))
        dso, symbol = parts[1].strip(), parts[2].strip()
        symbol = symbol.split("] ", 1)[-1]
        where = category(dso, symbol, categories)
        shares[where] = shares.get(where, 0.0) + pct
        top.append((pct, dso, symbol))
    print(f"\nbackend CPU per {unit}, {per_query_us:.0f} us (perf cpu-clock samples of the backend):")
    print(f"| where | share | us per {unit} |\n| --- | ---: | ---: |")
    for name, pct in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {pct:.1f}% | {per_query_us * pct / 100:.1f} |")
    print("\ntop symbols:")
    for pct, dso, symbol in sorted(top, reverse=True)[:25]:
        print(f"  {pct:5.2f}%  {dso:24.24s} {symbol}")


def inclusive_shares(data, functions, per_item_us, unit):
    """For each function, the share of samples with it on the stack (perf's "children")."""
    out = subprocess.run(["perf", "report", "-i", data, "--children", "--stdio", "--sort", "symbol",
                          "-g", "none", "--percent-limit", "0", "--field-separator", "\t"],
                         capture_output=True, text=True).stdout
    print(f"\nwith callees (samples whose call chain holds the function), us per {unit}:")
    for name in functions:
        share = 0.0
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and not line.startswith("#") and parts[2].strip().endswith(name):
                share = max(share, float(parts[0].strip().rstrip("%")))
        print(f"  {name}: {share:.1f}% ({per_item_us * share / 100:.1f} us)")


def sample(pid, statements, categories, unit, inclusive=()):
    """Runs statements() under `perf record` of the backend and prints its CPU per item, split;
    with `inclusive` function names, also their shares with callees (call graphs recorded)."""
    perf_data = "/tmp/lhv-prof.data"
    graph = ["-g"] if inclusive else []
    perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", *graph, "-o", perf_data, "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    t0, c0 = time.perf_counter(), cpu_ns(pid)
    count = statements()
    wall = (time.perf_counter() - t0) / count
    cpu = (cpu_ns(pid) - c0) / 1e3 / count
    perf.send_signal(2)
    perf.wait()
    print(f"while sampled: {1e6 * wall:.0f} us wall per {unit}, of which the backend ran {cpu:.0f} us")
    breakdown(perf_data, cpu, categories, unit)
    if inclusive:
        inclusive_shares(perf_data, inclusive, cpu, unit)
    os.unlink(perf_data)


def literal(column, v):
    body = ",".join("%.9g" % x for x in v)
    return "{" + body + "}" if column == "real[]" else "[" + body + "]"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--type", default="real[]", choices=sorted(TYPES))
    p.add_argument("--rows", type=int, default=60000, help="rows indexed (at most 50,000 with --insert)")
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--ef", type=int, default=40)
    p.add_argument("--passes", type=int, default=2, help="floor and knn passes (the best is printed)")
    p.add_argument("--perf", action="store_true")
    p.add_argument("--inclusive", default="", metavar="F1,F2",
                   help="with --perf: record call graphs and print each function's share with its callees")
    p.add_argument("--insert", type=int, default=0, metavar="N",
                   help="profile N single-row INSERTs instead of queries")
    a = p.parse_args()
    inclusive = [f for f in a.inclusive.split(",") if f]
    column, storage, extensions, index, ef_setting = TYPES[a.type]
    train, test, _, _ = datasets.fashion_mnist()
    rows = min(a.rows, 50000) if a.insert else a.rows
    base = train[:rows]
    conn = psycopg2.connect(host=a.host, user="postgres", dbname="postgres")
    conn.autocommit = True
    cur = conn.cursor()
    for ext in extensions:
        cur.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
    cur.execute("DROP TABLE IF EXISTS prof")
    typmod = "" if column == "real[]" else f"({base.shape[1]})"
    cur.execute(f"CREATE TABLE prof (id int PRIMARY KEY, v {column}{typmod} NOT NULL)")
    if storage:
        cur.execute(f"ALTER TABLE prof ALTER COLUMN v SET STORAGE {storage}")
    copy_vectors(cur, "prof", base, fmt="real[]" if column == "real[]" else "vector")
    cur.execute("VACUUM ANALYZE prof")
    cur.execute(f"CREATE INDEX ON prof USING {index} WITH (m = 16, ef_construction = 64)")
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    if a.insert:
        # run.py's INSERT round: the next rows of the training set, ids after the base.
        lits = [literal(column, v) for v in train[rows:rows + a.insert]]
        cur.execute(f"PREPARE ins(int, {column}) AS INSERT INTO prof (id, v) VALUES ($1, $2)")

        def inserts():
            for i, lit in enumerate(lits):
                cur.execute("EXECUTE ins(%s, %s)", (rows + 1 + i, lit))
            return len(lits)

        if a.perf:
            sample(pid, inserts, INSERT_CATEGORIES, "row", inclusive)
        else:
            t0 = time.perf_counter()
            inserts()
            print(f"{a.type}: {len(lits) / (time.perf_counter() - t0):.0f} single-row INSERTs/s")
        cur.execute("DROP TABLE prof")
        return
    lits = [literal(column, q) for q in test[:a.queries]]
    cur.execute(f"PREPARE floor({column}) AS SELECT 1 WHERE $1 IS NOT NULL")
    cur.execute(f"PREPARE knn({column}) AS SELECT id FROM prof ORDER BY v <-> $1 LIMIT 10")
    cur.execute(f"SET {ef_setting} = {a.ef}")
    best = {}
    for _ in range(a.passes):
        for name in ("floor", "knn"):
            t0 = time.perf_counter()
            for lit in lits:
                cur.execute(f"EXECUTE {name}(%s)", (lit,))
                cur.fetchall()
            per_query = (time.perf_counter() - t0) / len(lits)
            best[name] = min(best.get(name, per_query), per_query)
    for name in ("floor", "knn"):
        print(f"{a.type} {name}: {1e3 * best[name]:.3f} ms per query ({1 / best[name]:.0f} q/s), best of {a.passes}")
    if a.perf:
        def queries():
            for lit in lits:
                cur.execute("EXECUTE knn(%s)", (lit,))
                cur.fetchall()
            return len(lits)

        sample(pid, queries, CATEGORIES, "query", inclusive)
    cur.execute("DROP TABLE prof")


if __name__ == "__main__":
    main()
