#!/usr/bin/env python3
"""A small application on lhv's named indexes, as a vector service client would be.

It talks to PostgreSQL twice over, the way applications do:
  * with psycopg 3 directly: create an index, add documents in batches
    (lhv_add with a JSON array) and one by one, search, get, delete, list,
    export it (lhv_export, LHV1 bytes) and import a copy (lhv_import);
  * with SQLAlchemy (Core, through its psycopg2 dialect: Debian 12's
    SQLAlchemy 1.4 has no psycopg 3 dialect): search and upsert through
    func.lhv_search(...).table_valued(...) and text().

Vectors are plain Python lists: psycopg 3 sends them as double precision[],
psycopg2 as numeric[] or integer[]; lhv accepts all of them without casts.
Every step checks its result, so the run fails loudly if lhv misbehaves.

    python3 examples/named_indexes_app.py --host /tmp/sockdir --user app --dbname app
"""
import argparse
import math
import random

import psycopg
from psycopg.types.json import Jsonb
import sqlalchemy
from sqlalchemy import column, func, select, text

DIMENSION = 16
INDEX = "example-docs"


def embed(rng):
    """A random unit vector standing in for a real embedding."""
    v = [rng.gauss(0.0, 1.0) for _ in range(DIMENSION)]
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def with_psycopg(dsn, rng):
    """Creates the index and works with it through psycopg 3."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT lhv_drop(name) FROM lhv_list() WHERE name = %s", (INDEX,))
        conn.execute("SELECT lhv_create(%s, %s, 'cosine', m => 16, ef_search => 40)", (INDEX, DIMENSION))

        # A second create of the same name fails with SQLSTATE 42710.
        try:
            conn.execute("SELECT lhv_create(%s, %s)", (INDEX, DIMENSION))
            raise AssertionError("duplicate lhv_create succeeded")
        except psycopg.errors.DuplicateObject:
            pass

        # Batches of 250 documents, each one transaction (all or nothing).
        docs = {f"doc-{i}": embed(rng) for i in range(1000)}
        ids = list(docs)
        for start in range(0, len(ids), 250):
            batch = [{"id": i, "vector": docs[i], "metadata": {"n": int(i[4:]), "tag": "batch"}}
                     for i in ids[start:start + 250]]
            (added,) = conn.execute("SELECT lhv_add(%s, %s)", (INDEX, Jsonb(batch))).fetchone()
            assert added == len(batch), added

        # A bad batch stores nothing: the wrong dimension in its last item.
        bad = [{"id": "new-1", "vector": embed(rng)}, {"id": "new-2", "vector": [1.0, 2.0]}]
        try:
            conn.execute("SELECT lhv_add(%s, %s)", (INDEX, Jsonb(bad)))
            raise AssertionError("bad batch accepted")
        except psycopg.errors.DataException as e:
            assert e.sqlstate == "22000", e.sqlstate
        assert conn.execute("SELECT * FROM lhv_get(%s, 'new-1')", (INDEX,)).fetchone() is None

        # One item: a Python list of floats is sent as double precision[].
        special = embed(rng)
        (new,) = conn.execute("SELECT lhv_add(%s, %s, %s, %s)",
                              (INDEX, "special", special, Jsonb({"tag": "special"}))).fetchone()
        assert new is True

        # Search: nearest first, exactly k rows; a stored vector is at distance 0.
        rows = conn.execute("SELECT id, distance, metadata FROM lhv_search(%s, %s, %s)",
                            (INDEX, special, 5)).fetchall()
        assert len(rows) == 5, rows
        assert rows[0][0] == "special" and rows[0][1] < 1e-6, rows[0]
        assert rows[0][2] == {"tag": "special"}
        assert all(a[1] <= b[1] + 1e-6 for a, b in zip(rows, rows[1:]))

        # Every document finds itself with a wider search.
        for i in ids[:50]:
            (found,) = conn.execute("SELECT id FROM lhv_search(%s, %s, 1, 200)", (INDEX, docs[i])).fetchone()
            assert found == i, (found, i)

        # Upsert: a new vector keeps the stored metadata when none is given.
        conn.execute("SELECT lhv_add(%s, %s, %s)", (INDEX, "doc-7", special))
        vector, metadata = conn.execute("SELECT vector, metadata FROM lhv_get(%s, 'doc-7')", (INDEX,)).fetchone()
        assert metadata == {"n": 7, "tag": "batch"}, metadata
        assert all(abs(a - b) < 1e-6 for a, b in zip(vector, special))

        # Transactions: a rolled-back add is gone.
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT lhv_add(%s, 'tmp', %s)", (INDEX, embed(rng)))
            assert conn.execute("SELECT * FROM lhv_get(%s, 'tmp')", (INDEX,)).fetchone() is not None
        assert conn.execute("SELECT * FROM lhv_get(%s, 'tmp')", (INDEX,)).fetchone() is None

        # Delete: true, then false.
        assert conn.execute("SELECT lhv_delete(%s, 'doc-3')", (INDEX,)).fetchone() == (True,)
        assert conn.execute("SELECT lhv_delete(%s, 'doc-3')", (INDEX,)).fetchone() == (False,)

        info = conn.execute("SELECT name, dimension, distance, count, owner FROM lhv_info(%s)",
                            (INDEX,)).fetchone()
        print("psycopg 3:", info)
        assert info[:4] == (INDEX, DIMENSION, "cosine", 1000), info

        # Export as LHV1 bytes (Python bytes; the graph part loads in hnswlib),
        # and import a copy: it answers the same, its graph taken over as is.
        (blob,) = conn.execute("SELECT lhv_export(%s)", (INDEX,)).fetchone()
        assert blob[:4] == b"LHV1", blob[:4]
        copy = INDEX + "-copy"
        conn.execute("SELECT lhv_drop(name) FROM lhv_list() WHERE name = %s", (copy,))
        (imported,) = conn.execute("SELECT lhv_import(%s, %s)", (copy, blob)).fetchone()
        assert imported == 1000, imported
        search = "SELECT id, distance, metadata FROM lhv_search(%s, %s, 10)"
        assert conn.execute(search, (copy, special)).fetchall() == conn.execute(search, (INDEX, special)).fetchall()
        try:
            conn.execute("SELECT lhv_import(%s, %s)", ("bad-bytes", b"LHV1 not really"))
            raise AssertionError("malformed bytes imported")
        except psycopg.DataError as e:  # SQLSTATE class 22, here 22P03
            assert e.sqlstate.startswith("22"), e.sqlstate
        conn.execute("SELECT lhv_drop(%s)", (copy,))

        # Unknown names are SQLSTATE 42704.
        try:
            conn.execute("SELECT * FROM lhv_search('no-such-index', %s)", (special,))
            raise AssertionError("search of an unknown index succeeded")
        except psycopg.errors.UndefinedObject:
            pass
        return docs


def with_sqlalchemy(url, docs, rng):
    """Searches and upserts through SQLAlchemy Core."""
    engine = sqlalchemy.create_engine(url, future=True)
    search = func.lhv_search(INDEX, sqlalchemy.bindparam("q"), sqlalchemy.bindparam("k")) \
        .table_valued(column("id"), column("distance"), column("metadata"))
    with engine.begin() as conn:
        query = docs["doc-42"]
        rows = conn.execute(select(search.c.id, search.c.distance), {"q": query, "k": 3}).all()
        assert len(rows) == 3 and rows[0].id == "doc-42", rows
        # Integer lists (integer[]) work too.
        rows = conn.execute(select(search.c.id), {"q": [1] * DIMENSION, "k": 2}).all()
        assert len(rows) == 2, rows
        # An upsert through text(); psycopg2 sends the list as numeric[].
        conn.execute(text("SELECT lhv_add(:name, :id, :v, CAST(:meta AS jsonb))"),
                     {"name": INDEX, "id": "from-sqlalchemy", "v": embed(rng), "meta": '{"via": "sqlalchemy"}'})
        (count,) = conn.execute(text("SELECT count FROM lhv_info(:name)"), {"name": INDEX}).one()
        print("SQLAlchemy:", rows, "count", count)
        assert count == 1001, count
    with engine.begin() as conn:
        names = [r.name for r in conn.execute(text("SELECT name FROM lhv_list()"))]
        assert INDEX in names, names
        assert conn.execute(text("SELECT lhv_drop(:name)"), {"name": INDEX}).scalar() is True
    engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="/var/run/postgresql", help="host or unix socket directory")
    parser.add_argument("--port", default="5432")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--dbname", default="postgres")
    args = parser.parse_args()
    rng = random.Random(8)
    dsn = f"host={args.host} port={args.port} user={args.user} dbname={args.dbname}"
    docs = with_psycopg(dsn, rng)
    url = sqlalchemy.engine.URL.create("postgresql+psycopg2", username=args.user, database=args.dbname,
                                       query={"host": args.host, "port": args.port})
    with_sqlalchemy(url, docs, rng)
    print("named indexes example: ok")


if __name__ == "__main__":
    main()
