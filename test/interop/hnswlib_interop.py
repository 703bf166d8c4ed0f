#!/usr/bin/env python3
"""Interop between lhv's named indexes and stock hnswlib (Debian's python3-hnswlib).

For each space (l2, ip, cosine), through psycopg 3 as an ordinary role:
  (a) a named index built with lhv_add (some items deleted, some of them
      VACUUMed) is exported with lhv_export; its graph bytes load in
      hnswlib.Index(space, dim).load_index(); hnswlib finds the same
      neighbours as lhv_search, in the same order, at distances that differ
      only by the documented scaling (l2: hnswlib's are squared; ip: hnswlib's
      are 1 - a.b where lhv's are -a.b; cosine: the same); the labels of the
      envelope map hnswlib's labels to ids, and deleted items never come back;
  (b) an index built in Python with hnswlib (add_items, mark_deleted,
      save_index), wrapped in an LHV1 envelope, is imported with lhv_import;
      lhv_search then finds the same neighbours as hnswlib's knn_query, the
      ids being the labels in decimal (or the ids of a "labels" map), with
      the envelope's metadata, and the deleted elements are not rows.

    python3 test/interop/hnswlib_interop.py --host /tmp/sockdir --user app --dbname app
Exits non-zero (an AssertionError) at the first disagreement.
"""
import argparse
import json
import math
import os
import struct
import tempfile

import hnswlib
import numpy as np
import psycopg
from psycopg.types.json import Jsonb

DIM = 24
ITEMS = 1500
QUERIES = 60
K = 10
EF = 200
M = 12
EF_CONSTRUCTION = 100
NAMED_DISTANCE = {"l2": "euclidean", "ip": "inner_product", "cosine": "cosine"}


def lhv_distance(space, hnswlib_distance):
    """What lhv_search reports for a distance hnswlib reports."""
    if space == "l2":
        return math.sqrt(hnswlib_distance)  # hnswlib's l2 space is squared
    if space == "ip":
        return hnswlib_distance - 1.0  # hnswlib: 1 - a.b; lhv: -a.b
    return hnswlib_distance  # 1 - cosine similarity in both


def split_lhv1(blob):
    """(envelope dict, graph bytes) of LHV1 bytes."""
    assert blob[:4] == b"LHV1", blob[:4]
    (length,) = struct.unpack(">I", blob[4:8])
    return json.loads(blob[8:8 + length]), blob[8 + length:]


def lhv1(envelope, graph_bytes):
    """LHV1 bytes from an envelope and hnswlib graph bytes."""
    text = json.dumps(envelope).encode()
    return b"LHV1" + struct.pack(">I", len(text)) + text + graph_bytes


def lhv_search(conn, name, query):
    """[(id, distance)] of lhv_search, nearest first."""
    rows = conn.execute("SELECT id, distance FROM lhv_search(%s, %s::real[], %s, %s)",
                        (name, [float(x) for x in query], K, EF)).fetchall()
    return [(r[0], r[1]) for r in rows]


def same_neighbours(space, lhv_rows, hnswlib_ids, hnswlib_distances, where):
    """Asserts the same ids in the same order at the scaled distances."""
    got_ids = [r[0] for r in lhv_rows]
    assert got_ids == hnswlib_ids, f"{where}: lhv_search {got_ids} != hnswlib {hnswlib_ids}"
    for (id_, d), hd in zip(lhv_rows, hnswlib_distances):
        expected = lhv_distance(space, float(hd))
        assert abs(d - expected) <= 1e-4 * max(1.0, abs(expected)), f"{where}: {id_} at {d}, hnswlib {hd}"


def export_to_hnswlib(conn, space, rng, workdir):
    """(a): an lhv export loads in hnswlib and finds what lhv_search finds."""
    name = f"interop-{space}"
    conn.execute("SELECT lhv_drop(name) FROM lhv_list() WHERE name = %s", (name,))
    conn.execute("SELECT lhv_create(%s, %s, %s, m => %s, ef_construction => %s)",
                 (name, DIM, NAMED_DISTANCE[space], M, EF_CONSTRUCTION))
    data = rng.normal(size=(ITEMS, DIM)).astype(np.float32)
    for start in range(0, ITEMS, 500):
        batch = [{"id": f"doc-{i}", "vector": [float(x) for x in data[i]], "metadata": {"i": i}}
                 for i in range(start, min(ITEMS, start + 500))]
        conn.execute("SELECT lhv_add(%s, %s)", (name, Jsonb(batch)))
    deleted = {f"doc-{i}" for i in range(0, ITEMS, 7)}
    for id_ in sorted(deleted)[:len(deleted) // 2]:
        conn.execute("SELECT lhv_delete(%s, %s)", (name, id_))
    conn.execute(f'VACUUM lhv_data."{name}"')  # half the deleted items are VACUUMed
    for id_ in sorted(deleted)[len(deleted) // 2:]:
        conn.execute("SELECT lhv_delete(%s, %s)", (name, id_))

    (blob,) = conn.execute("SELECT lhv_export(%s)", (name,)).fetchone()
    envelope, graph_bytes = split_lhv1(bytes(blob))
    params = envelope["params"]
    assert params["distance"] == space and params["dimension"] == DIM and params["m"] == M, params
    labels = {int(label): id_ for label, id_ in envelope["labels"].items()}
    assert len(labels) == ITEMS - len(deleted), len(labels)
    assert not set(labels.values()) & deleted

    path = os.path.join(workdir, f"export-{space}.bin")
    with open(path, "wb") as f:
        f.write(graph_bytes)
    index = hnswlib.Index(space=space, dim=DIM)
    index.load_index(path)
    index.set_ef(EF)
    assert index.element_count >= ITEMS, index.element_count  # deleted elements stay in the graph
    # hnswlib holds the vectors as stored (unit ones under cosine).
    some = sorted(labels)[:5]
    for label, vector in zip(some, index.get_items(some)):
        original = data[int(labels[label][4:])]
        if space == "cosine":
            original = original / np.linalg.norm(original)
        assert np.allclose(vector, original, atol=1e-6), (label, vector, original)

    queries = rng.normal(size=(QUERIES, DIM)).astype(np.float32)
    found, distances = index.knn_query(queries, k=K, num_threads=1)
    for q in range(QUERIES):
        hnswlib_ids = [labels[int(label)] for label in found[q]]  # KeyError: a deleted element came back
        same_neighbours(space, lhv_search(conn, name, queries[q]), hnswlib_ids, distances[q],
                        f"export {space}, query {q}")
    print(f"(a) {space}: export of {len(labels)} items ({index.element_count} graph elements) loads in "
          f"hnswlib and finds the same {K} neighbours as lhv_search for {QUERIES} queries")


def hnswlib_to_import(conn, space, rng, workdir, with_labels):
    """(b): an index saved by hnswlib imports and finds what hnswlib finds."""
    data = rng.normal(size=(ITEMS, DIM)).astype(np.float32)
    hnswlib_labels = np.arange(ITEMS, dtype=np.uint64) * 3 + 1000  # sparse, not element ids
    index = hnswlib.Index(space=space, dim=DIM)
    index.init_index(max_elements=ITEMS + 100, M=M, ef_construction=EF_CONSTRUCTION, random_seed=7)
    index.add_items(data, hnswlib_labels, num_threads=1)
    deleted = [int(label) for label in hnswlib_labels[::11]]
    for label in deleted:
        index.mark_deleted(label)
    path = os.path.join(workdir, f"hnswlib-{space}.bin")
    index.save_index(path)
    with open(path, "rb") as f:
        graph_bytes = f.read()

    def id_of(label):
        return f"py-{label}" if with_labels else str(label)

    live = [int(label) for label in hnswlib_labels if int(label) not in set(deleted)]
    envelope = {"version": 1,
                "params": {"name": "built in Python", "dimension": DIM, "m": M,
                           "ef_construction": EF_CONSTRUCTION, "ef_search": 40, "distance": space},
                "metadata": {id_of(label): {"label": label} for label in live[:100]}}
    if with_labels:
        envelope["labels"] = {str(label): id_of(label) for label in live}
    name = f"from-hnswlib-{space}"
    conn.execute("SELECT lhv_drop(name) FROM lhv_list() WHERE name = %s", (name,))
    (imported,) = conn.execute("SELECT lhv_import(%s, %s)", (name, lhv1(envelope, graph_bytes))).fetchone()
    assert imported == len(live), (imported, len(live))
    info = conn.execute("SELECT dimension, distance, m, ef_search, ef_construction, count FROM lhv_info(%s)",
                        (name,)).fetchone()
    assert info == (DIM, NAMED_DISTANCE[space], M, 40, EF_CONSTRUCTION, len(live)), info
    assert conn.execute("SELECT count(*) FROM lhv_get(%s, %s)", (name, id_of(deleted[0]))).fetchone()[0] == 0
    (metadata,) = conn.execute("SELECT metadata FROM lhv_get(%s, %s)", (name, id_of(live[0]))).fetchone()
    assert metadata == {"label": live[0]}, metadata

    index.set_ef(EF)
    queries = rng.normal(size=(QUERIES, DIM)).astype(np.float32)
    found, distances = index.knn_query(queries, k=K, num_threads=1)
    for q in range(QUERIES):
        assert not set(int(label) for label in found[q]) & set(deleted)
        same_neighbours(space, lhv_search(conn, name, queries[q]), [id_of(int(label)) for label in found[q]],
                        distances[q], f"import {space}, query {q}")
    print(f"(b) {space}: an hnswlib index of {ITEMS} elements ({len(deleted)} deleted) saved by save_index "
          f"imports{' with a labels map' if with_labels else ''} and lhv_search finds what knn_query finds "
          f"for {QUERIES} queries")


def main():
    parser = argparse.ArgumentParser(description="lhv <-> hnswlib interop")
    parser.add_argument("--host", required=True)
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--dbname", default="postgres")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    with psycopg.connect(f"host={args.host} user={args.user} dbname={args.dbname}", autocommit=True) as conn, \
            tempfile.TemporaryDirectory(prefix="lhv-interop-") as workdir:
        for space in ("l2", "ip", "cosine"):
            export_to_hnswlib(conn, space, rng, workdir)
        for space, with_labels in (("l2", False), ("ip", True), ("cosine", False)):
            hnswlib_to_import(conn, space, rng, workdir, with_labels)
    print("hnswlib interop: ok")


if __name__ == "__main__":
    main()
