"""lhvector_app.py: an application using lhv's own vector type, lhvector, from
psycopg 3, with text and with binary parameters and results.

lhvector's binary format is pgvector's (int16 dimension, int16 zero, float4
components, network byte order), so the binary adapter below is what
pgvector's client libraries register for `vector`: registered for the type
name `lhvector`, they send and read lhvector the same way.

    python3 examples/lhvector_app.py --host /tmp/socketdir --user app --dbname app

Exits non-zero if anything is not as an application expects.
"""
import argparse
import struct
import sys

import psycopg
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format


class Vector(list):
    """A vector the application sends as lhvector."""


def register_lhvector(conn):
    """Binary dumper (Vector -> lhvector) and binary and text loaders (lhvector -> list)."""
    oid = conn.execute("SELECT 'lhvector'::regtype::oid").fetchone()[0]

    class BinaryDumper(Dumper):
        format = Format.BINARY

        def dump(self, v):
            return struct.pack(f">hh{len(v)}f", len(v), 0, *v)

    BinaryDumper.oid = oid

    class BinaryLoader(Loader):
        format = Format.BINARY

        def load(self, data):
            dim, _ = struct.unpack_from(">hh", data)
            return list(struct.unpack_from(f">{dim}f", data, 4))

    class TextLoader(Loader):
        def load(self, data):
            return [float(x) for x in bytes(data).decode()[1:-1].split(",")]

    conn.adapters.register_dumper(Vector, BinaryDumper)
    conn.adapters.register_loader(oid, BinaryLoader)
    conn.adapters.register_loader(oid, TextLoader)


def check(condition, what):
    if not condition:
        print(f"lhvector_app: FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"lhvector_app: ok: {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--dbname", required=True)
    args = parser.parse_args()

    with psycopg.connect(host=args.host, user=args.user, dbname=args.dbname, autocommit=True) as conn:
        register_lhvector(conn)
        conn.execute("DROP TABLE IF EXISTS app_docs")
        conn.execute("CREATE TABLE app_docs (id int PRIMARY KEY, embedding lhvector(3))")
        conn.execute("ALTER TABLE app_docs ALTER COLUMN embedding SET STORAGE PLAIN")
        conn.execute("CREATE INDEX ON app_docs USING lhv (embedding lhvector_l2_ops)")

        # Binary parameters (%b), and text ones: a string in lhvector's text form.
        conn.execute("INSERT INTO app_docs VALUES (%s, %b)", (1, Vector([0.1, 0.2, 0.3])))
        conn.execute("INSERT INTO app_docs VALUES (%s, %s::lhvector)", (2, "[0.3, 0.1, 0.9]"))
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO app_docs VALUES (%s, %b)",
                            [(i, Vector([i / 100.0, 1.0, -i / 50.0])) for i in range(3, 1003)])
        count = conn.execute("SELECT count(*) FROM app_docs").fetchone()[0]
        check(count == 1002, "1,002 rows stored from binary and text parameters")

        # A k-NN query with a binary query vector, answered by the lhv index,
        # with results read back in binary and in text.
        query = "SELECT id, embedding FROM app_docs ORDER BY embedding <-> %b LIMIT 3"
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query, (Vector([0.1, 0.2, 0.3]),)))
        check("Index Scan" in plan, "the query is an lhv index scan")
        with conn.cursor(binary=True) as cur:
            rows = cur.execute(query, (Vector([0.1, 0.2, 0.3]),)).fetchall()
        check(rows[0][0] == 1, "the nearest row to row 1's vector is row 1")
        check(rows[0][1] == list(struct.unpack(">3f", struct.pack(">3f", 0.1, 0.2, 0.3))),
              "a binary result holds the stored float4 components exactly")
        text_row = conn.execute("SELECT embedding FROM app_docs WHERE id = 2").fetchone()[0]
        check(text_row == [0.3, 0.1, 0.9], "a text result reads back as the inserted numbers")

        # Errors an application can act on, by SQLSTATE; nothing is stored.
        for bad, sqlstate, what in ((Vector([1.0, 2.0]), "22000", "a wrong dimension"),
                                    (Vector([1.0, float("nan"), 2.0]), "22000", "a NaN component")):
            try:
                conn.execute("INSERT INTO app_docs VALUES (%s, %b)", (999, bad))
                check(False, f"{what} is refused")
            except psycopg.Error as e:
                check(e.sqlstate == sqlstate, f"{what} is refused with SQLSTATE {sqlstate}")
        count = conn.execute("SELECT count(*) FROM app_docs").fetchone()[0]
        check(count == 1002, "failed INSERTs stored nothing")
        conn.execute("DROP TABLE app_docs")


if __name__ == "__main__":
    main()
