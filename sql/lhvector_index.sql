-- lhvector_index.sql: lhv indexes on lhvector columns: each operator class
-- (lhvector_l2_ops, lhvector_cosine_ops, lhvector_ip_ops) answers ORDER BY
-- ... LIMIT with an index scan whose recall@10 against brute force is
-- >= 0.95 (printed as a boolean: the graph of a parallel build varies);
-- inserts after the build, the dimension rules, and an operator class on a
-- type lhv cannot read.

SELECT setseed(0.2024);
CREATE TABLE vt_items (id int PRIMARY KEY, v lhvector(16));
-- Points around 15 centres, components in about [-1.7, 1.7].
CREATE TEMP TABLE vt_centres AS
SELECT c, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 16) d WHERE c >= 0) AS centre
FROM generate_series(0, 14) c;
INSERT INTO vt_items
SELECT i, ARRAY(SELECT (vc.centre[d] + (random() - 0.5) * 1.4)::real
                FROM generate_series(1, 16) d WHERE i > 0)
FROM generate_series(1, 3000) i JOIN vt_centres vc ON vc.c = i % 15;
CREATE TABLE vt_queries (qid int PRIMARY KEY, q lhvector(16));
INSERT INTO vt_queries
SELECT j, ARRAY(SELECT (vc.centre[d] + (random() - 0.5) * 1.4)::real
                FROM generate_series(1, 16) d WHERE j > 0)
FROM generate_series(1, 40) j JOIN vt_centres vc ON vc.c = (j * 4) % 15;
ANALYZE vt_items;

-- Exact top 10 by brute force, per operator (no index yet).
CREATE TEMP TABLE vt_exact AS
SELECT '<->' AS op, qid, id FROM vt_queries,
    LATERAL (SELECT id FROM vt_items ORDER BY v <-> q LIMIT 10) s
UNION ALL
SELECT '<#>', qid, id FROM vt_queries,
    LATERAL (SELECT id FROM vt_items ORDER BY v <#> q LIMIT 10) s
UNION ALL
SELECT '<=>', qid, id FROM vt_queries,
    LATERAL (SELECT id FROM vt_items ORDER BY v <=> q LIMIT 10) s;
SELECT op, count(*) FROM vt_exact GROUP BY op ORDER BY op;

-- recall@10 of the lhv index for `op`, after checking the plan is an lhv
-- index scan with no sort.
CREATE FUNCTION pg_temp.recall(op text) RETURNS float8 LANGUAGE plpgsql
SET enable_seqscan = off SET enable_bitmapscan = off AS $$
DECLARE
    sql text := format('SELECT qid, id FROM vt_queries,
        LATERAL (SELECT id FROM vt_items ORDER BY v %s q LIMIT 10) s', op);
    plan text;
    uses_lhv bool := false;
    hits bigint;
BEGIN
    FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || sql LOOP
        IF plan ~ 'Index Scan using vt_\w+ on vt_items' THEN
            uses_lhv := true;
        END IF;
        IF plan ~ 'Sort' THEN
            RAISE EXCEPTION 'the plan sorts: %', plan;
        END IF;
    END LOOP;
    IF NOT uses_lhv THEN
        RAISE EXCEPTION 'no lhv index scan in the plan of %', sql;
    END IF;
    EXECUTE format('SELECT count(*) FROM (%s) a JOIN vt_exact e
                    ON e.op = %L AND e.qid = a.qid AND e.id = a.id', sql, op) INTO hits;
    RETURN hits / 400.0;
END $$;

CREATE INDEX vt_l2 ON vt_items USING lhv (v lhvector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM vt_items ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5;
-- A prepared statement with an lhvector parameter, as applications send it.
PREPARE vt_knn(lhvector) AS SELECT id FROM vt_items ORDER BY v <-> $1 LIMIT 5;
EXPLAIN (COSTS OFF) EXECUTE vt_knn('[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]');
RESET enable_seqscan;
SELECT pg_temp.recall('<->') >= 0.95 AS l2_recall_ok;
-- The index returns what the operator ranks first: the nearest row itself.
SELECT (SELECT id FROM vt_items ORDER BY v <-> (SELECT v FROM vt_items WHERE id = 1234) LIMIT 1) AS nearest_of_1234;
DROP INDEX vt_l2;

CREATE INDEX vt_cosine ON vt_items USING lhv (v lhvector_cosine_ops);
SELECT pg_temp.recall('<=>') >= 0.95 AS cosine_recall_ok;
DROP INDEX vt_cosine;

CREATE INDEX vt_ip ON vt_items USING lhv (v lhvector_ip_ops);
SELECT pg_temp.recall('<#>') >= 0.95 AS ip_recall_ok;
DROP INDEX vt_ip;

-- Rows inserted after the build are found, with the same recall.
CREATE INDEX vt_l2_half ON vt_items USING lhv (v lhvector_l2_ops);
DELETE FROM vt_items WHERE id > 1500;
VACUUM vt_items;
INSERT INTO vt_items
SELECT i, ARRAY(SELECT (vc.centre[d] + (random() - 0.5) * 1.4)::real
                FROM generate_series(1, 16) d WHERE i > 0)
FROM generate_series(1501, 3000) i JOIN vt_centres vc ON vc.c = i % 15;
TRUNCATE vt_exact;
SET enable_indexscan = off;
INSERT INTO vt_exact
SELECT '<->', qid, id FROM vt_queries,
    LATERAL (SELECT id FROM vt_items ORDER BY v <-> q LIMIT 10) s;
RESET enable_indexscan;
SELECT pg_temp.recall('<->') >= 0.95 AS l2_recall_after_inserts_ok;

-- Dimension rules: a column without typmod takes any dimension, but the
-- index keeps the first one it saw; NULLs are not indexed; a zero vector
-- cannot be indexed for cosine. Nothing is stored by a failing INSERT.
CREATE TABLE vt_free (id int, v lhvector);
CREATE INDEX vt_free_l2 ON vt_free USING lhv (v lhvector_l2_ops);
CREATE INDEX vt_free_cos ON vt_free USING lhv (v lhvector_cosine_ops);
INSERT INTO vt_free VALUES (1, '[1,2,3]'), (2, '[2,3,4]'), (3, NULL);
\set VERBOSITY sqlstate
INSERT INTO vt_free VALUES (4, '[1,2]');
INSERT INTO vt_free VALUES (5, '[0,0,0]');
\set VERBOSITY default
INSERT INTO vt_free VALUES (4, '[1,2]');
SELECT count(*) AS rows_stored FROM vt_free;
SET enable_seqscan = off;
SELECT id FROM vt_free ORDER BY v <-> '[1,2,3.1]' LIMIT 5;
SELECT id FROM vt_free ORDER BY v <=> '[1,2,3.1]' LIMIT 5;
RESET enable_seqscan;
\set VERBOSITY sqlstate
SELECT id FROM vt_free ORDER BY v <-> '[1,2]' LIMIT 5;
\set VERBOSITY default

-- An operator class on a type lhv cannot read is refused (42804), never
-- misread, and amvalidate says why.
CREATE FUNCTION vt_text_distance(text, text) RETURNS float8
    LANGUAGE sql IMMUTABLE AS 'SELECT length($1)::float8 - length($2)';
CREATE OPERATOR <-> (LEFTARG = text, RIGHTARG = text, FUNCTION = vt_text_distance);
CREATE OPERATOR CLASS vt_text_ops FOR TYPE text USING lhv AS
    OPERATOR 1 <-> (text, text) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_l2_metric(internal);
SELECT amvalidate(oid) FROM pg_opclass WHERE opcname = 'vt_text_ops';
CREATE TABLE vt_texts (t text);
INSERT INTO vt_texts VALUES ('abc');
\set VERBOSITY sqlstate
CREATE INDEX ON vt_texts USING lhv (t vt_text_ops);
\set VERBOSITY default
CREATE INDEX ON vt_texts USING lhv (t vt_text_ops);
DROP OPERATOR FAMILY vt_text_ops USING lhv;
DROP OPERATOR <-> (text, text);
DROP FUNCTION vt_text_distance(text, text);

DROP TABLE vt_items, vt_queries, vt_free, vt_texts;
