-- lhv_pgvector.sql: lhv indexes on pgvector's own vector columns, through
-- the lhv_pgvector extension: each operator class answers pgvector's
-- operators with an lhv index scan whose recall@10 against brute force is
-- >= 0.95; lhvector and vector share their wire format and convert into
-- each other. Runs only where pgvector (the vector extension) is installed;
-- elsewhere it says it skipped (expected/lhv_pgvector_1.out).
SELECT NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS no_pgvector \gset
\if :no_pgvector
\echo 'lhv_pgvector: skipped: pgvector (the vector extension) is not installed in this PostgreSQL'
\quit
\endif

CREATE EXTENSION vector;
CREATE EXTENSION lhv_pgvector;
SELECT extname, extrelocatable FROM pg_extension WHERE extname LIKE 'lhv%' ORDER BY 1;
SELECT opcname, amvalidate(c.oid) AS valid, opcintype::regtype
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'lhv' AND opcname LIKE 'lhv\_vector%' ORDER BY opcname;

-- A pgvector table as an application has it.
SELECT setseed(0.77);
CREATE TABLE pgv_items (id int PRIMARY KEY, embedding vector(12));
CREATE TEMP TABLE pgv_centres AS
SELECT c, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 12) d WHERE c >= 0) AS centre
FROM generate_series(0, 11) c;
INSERT INTO pgv_items
SELECT i, ARRAY(SELECT (pc.centre[d] + (random() - 0.5) * 1.4)::real
                FROM generate_series(1, 12) d WHERE i > 0)::vector
FROM generate_series(1, 3000) i JOIN pgv_centres pc ON pc.c = i % 12;
CREATE TABLE pgv_queries (qid int PRIMARY KEY, q vector(12));
INSERT INTO pgv_queries
SELECT j, ARRAY(SELECT (pc.centre[d] + (random() - 0.5) * 1.4)::real
                FROM generate_series(1, 12) d WHERE j > 0)::vector
FROM generate_series(1, 40) j JOIN pgv_centres pc ON pc.c = (j * 5) % 12;
ANALYZE pgv_items;

-- Exact top 10 with pgvector's own operators, no index.
CREATE TEMP TABLE pgv_exact AS
SELECT '<->' AS op, qid, id FROM pgv_queries,
    LATERAL (SELECT id FROM pgv_items ORDER BY embedding <-> q LIMIT 10) s
UNION ALL
SELECT '<#>', qid, id FROM pgv_queries,
    LATERAL (SELECT id FROM pgv_items ORDER BY embedding <#> q LIMIT 10) s
UNION ALL
SELECT '<=>', qid, id FROM pgv_queries,
    LATERAL (SELECT id FROM pgv_items ORDER BY embedding <=> q LIMIT 10) s;

CREATE FUNCTION pg_temp.recall(op text) RETURNS float8 LANGUAGE plpgsql
SET enable_seqscan = off SET enable_bitmapscan = off AS $$
DECLARE
    sql text := format('SELECT qid, id FROM pgv_queries,
        LATERAL (SELECT id FROM pgv_items ORDER BY embedding %s q LIMIT 10) s', op);
    plan text;
    uses_lhv bool := false;
    hits bigint;
BEGIN
    FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || sql LOOP
        IF plan ~ 'Index Scan using pgv_\w+ on pgv_items' THEN
            uses_lhv := true;
        END IF;
        IF plan ~ 'Sort' THEN
            RAISE EXCEPTION 'the plan sorts: %', plan;
        END IF;
    END LOOP;
    IF NOT uses_lhv THEN
        RAISE EXCEPTION 'no lhv index scan in the plan of %', sql;
    END IF;
    EXECUTE format('SELECT count(*) FROM (%s) a JOIN pgv_exact e
                    ON e.op = %L AND e.qid = a.qid AND e.id = a.id', sql, op) INTO hits;
    RETURN hits / 400.0;
END $$;

-- The switch: only the index changes; the query is pgvector's.
CREATE INDEX pgv_l2 ON pgv_items USING lhv (embedding lhv_vector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM pgv_items ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5;
RESET enable_seqscan;
SELECT pg_temp.recall('<->') >= 0.95 AS l2_recall_ok;
SELECT (SELECT id FROM pgv_items ORDER BY embedding <-> (SELECT embedding FROM pgv_items WHERE id = 777)
        LIMIT 1) AS nearest_of_777;
-- Rows inserted after the build go into the graph.
INSERT INTO pgv_items VALUES (5000, '[9,9,9,9,9,9,9,9,9,9,9,9]');
SELECT id FROM pgv_items ORDER BY embedding <-> '[9,9,9,9,9,9,9,9,9,9,9,8.9]' LIMIT 1;
DELETE FROM pgv_items WHERE id = 5000;
DROP INDEX pgv_l2;

CREATE INDEX pgv_cosine ON pgv_items USING lhv (embedding lhv_vector_cosine_ops);
SELECT pg_temp.recall('<=>') >= 0.95 AS cosine_recall_ok;
DROP INDEX pgv_cosine;
CREATE INDEX pgv_ip ON pgv_items USING lhv (embedding lhv_vector_ip_ops);
SELECT pg_temp.recall('<#>') >= 0.95 AS ip_recall_ok;

-- lhv's rules still hold: one dimension per index.
CREATE TABLE pgv_free (embedding vector);
CREATE INDEX ON pgv_free USING lhv (embedding lhv_vector_l2_ops);
INSERT INTO pgv_free VALUES ('[1,2,3]');
\set VERBOSITY sqlstate
INSERT INTO pgv_free VALUES ('[1,2]');
\set VERBOSITY default

-- lhvector and vector: the same binary format, both ways, and casts
-- between them that keep every bit and apply the target's typmod.
SELECT lhvector_send('[1,-2.5,3e-7]') = vector_send('[1,-2.5,3e-7]') AS same_wire_format;
\getenv abs_builddir PG_ABS_BUILDDIR
\set copy_file :abs_builddir '/results/lhv_pgvector.copy'
COPY (SELECT id, embedding FROM pgv_items) TO :'copy_file' WITH (FORMAT binary);
CREATE TABLE pgv_as_lhvector (id int, v lhvector(12));
COPY pgv_as_lhvector FROM :'copy_file' WITH (FORMAT binary);
COPY (SELECT id, v FROM pgv_as_lhvector) TO :'copy_file' WITH (FORMAT binary);
CREATE TABLE pgv_back (id int, embedding vector(12));
COPY pgv_back FROM :'copy_file' WITH (FORMAT binary);
SELECT count(*) AS rows,
       count(*) FILTER (WHERE i.embedding::real[] = l.v::real[]) AS lhvector_identical,
       count(*) FILTER (WHERE i.embedding = b.embedding) AS back_identical
FROM pgv_items i JOIN pgv_as_lhvector l USING (id) JOIN pgv_back b USING (id);
SELECT '[1,2,3]'::lhvector::vector AS to_vector, '[1,2,3]'::vector::lhvector(3) AS to_lhvector;
\set VERBOSITY sqlstate
SELECT '[1,2,3]'::vector::lhvector(2);
SELECT '[1,2,3]'::lhvector::vector(2);
\set VERBOSITY default
-- Distances agree between the two types.
SELECT count(*) FILTER (WHERE abs((i.embedding <-> q) - (i.embedding::lhvector <-> q::lhvector)) < 1e-6)
       AS l2_agree
FROM pgv_items i, (SELECT q FROM pgv_queries WHERE qid = 1) s;

-- The extensions depend on each other as they should.
\set VERBOSITY sqlstate
DROP EXTENSION lhv_pgvector;
\set VERBOSITY default
DROP TABLE pgv_items, pgv_queries, pgv_free, pgv_as_lhvector, pgv_back;
DROP EXTENSION lhv_pgvector;
DROP EXTENSION vector;
