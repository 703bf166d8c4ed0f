-- am_recall.sql: recall@10 of lhv index scans against brute force, for each
-- operator class, on 10,000 deterministic random vectors of 24 dimensions
-- and 50 queries. Recall is printed as a boolean (>= 0.95), never as a
-- number, so the output does not depend on the graph a parallel build makes.

SELECT setseed(0.4242);
CREATE TABLE recall_items (id int PRIMARY KEY, v real[]);
-- Points around 20 centres, as real embeddings cluster, with components in
-- about [-1.8, 1.8] so that inner product and cosine rankings differ from L2.
CREATE TEMP TABLE recall_centres AS
SELECT c, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 24) d WHERE c >= 0) AS centre
FROM generate_series(0, 19) c;
INSERT INTO recall_items
SELECT i, ARRAY(SELECT (rc.centre[d] + (random() - 0.5) * 1.6)::real
                FROM generate_series(1, 24) d WHERE i > 0)
FROM generate_series(1, 10000) i
JOIN recall_centres rc ON rc.c = i % 20;
CREATE TABLE recall_queries (qid int PRIMARY KEY, q real[]);
INSERT INTO recall_queries
SELECT j, ARRAY(SELECT (rc.centre[d] + (random() - 0.5) * 1.6)::real
                FROM generate_series(1, 24) d WHERE j > 0)
FROM generate_series(1, 50) j
JOIN recall_centres rc ON rc.c = (j * 7) % 20;
ANALYZE recall_items;
SELECT count(*) AS items, count(DISTINCT v) AS distinct_vectors,
       min(array_length(v, 1)) AS min_dim, max(array_length(v, 1)) AS max_dim
FROM recall_items;

-- Exact top 10 by brute force, per operator (no index exists yet).
CREATE TEMP TABLE recall_exact AS
SELECT '<->' AS op, qid, id FROM recall_queries,
    LATERAL (SELECT id FROM recall_items ORDER BY v <-> q LIMIT 10) s
UNION ALL
SELECT '<#>', qid, id FROM recall_queries,
    LATERAL (SELECT id FROM recall_items ORDER BY v <#> q LIMIT 10) s
UNION ALL
SELECT '<=>', qid, id FROM recall_queries,
    LATERAL (SELECT id FROM recall_items ORDER BY v <=> q LIMIT 10) s;
SELECT op, count(*) FROM recall_exact GROUP BY op ORDER BY op;

-- recall@10 of the index for operator `op`; checks that the plan is an lhv
-- index scan first.
CREATE FUNCTION pg_temp.recall(op text) RETURNS float8 LANGUAGE plpgsql
SET enable_seqscan = off SET enable_bitmapscan = off AS $$
DECLARE
    sql text := format('SELECT qid, id FROM recall_queries,
        LATERAL (SELECT id FROM recall_items ORDER BY v %s q LIMIT 10) s', op);
    plan text;
    uses_lhv bool := false;
    hits bigint;
BEGIN
    FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || sql LOOP
        IF plan ~ 'Index Scan using recall_\w+ on recall_items' THEN
            uses_lhv := true;
        END IF;
        IF plan ~ 'Sort' THEN
            RAISE EXCEPTION 'the plan sorts: %', plan;
        END IF;
    END LOOP;
    IF NOT uses_lhv THEN
        RAISE EXCEPTION 'no lhv index scan in the plan of %', sql;
    END IF;
    EXECUTE format('SELECT count(*) FROM (%s) a JOIN recall_exact e
                    ON e.op = %L AND e.qid = a.qid AND e.id = a.id', sql, op) INTO hits;
    RETURN hits / 500.0;
END $$;

-- The plan, once: a nested loop over the queries with an lhv index scan.
CREATE INDEX recall_l2 ON recall_items USING lhv (v lhv_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT qid, id FROM recall_queries,
    LATERAL (SELECT id FROM recall_items ORDER BY v <-> q LIMIT 10) s;
RESET enable_seqscan;

-- L2, cosine, inner product, each with the index alone on the table.
SELECT pg_temp.recall('<->') >= 0.95 AS l2_recall_ok;
-- A larger ef_search finds (nearly) all of them.
SET lhv.ef_search = 200;
SELECT pg_temp.recall('<->') >= 0.99 AS l2_recall_ef200_ok;
RESET lhv.ef_search;
DROP INDEX recall_l2;

CREATE INDEX recall_cos ON recall_items USING lhv (v lhv_cosine_ops);
SELECT pg_temp.recall('<=>') >= 0.95 AS cosine_recall_ok;
DROP INDEX recall_cos;

CREATE INDEX recall_ip ON recall_items USING lhv (v lhv_ip_ops);
SELECT pg_temp.recall('<#>') >= 0.95 AS ip_recall_ok;
DROP INDEX recall_ip;

-- Non-default build options.
CREATE INDEX recall_l2_small ON recall_items USING lhv (v lhv_l2_ops) WITH (m = 8, ef_construction = 100);
SET lhv.ef_search = 100;
SELECT pg_temp.recall('<->') >= 0.95 AS l2_m8_recall_ok;
RESET lhv.ef_search;
DROP INDEX recall_l2_small;

-- A graph built row by row (INSERTs into an indexed empty table) is as good
-- as one built by CREATE INDEX.
CREATE TABLE recall_items2 (LIKE recall_items);
CREATE INDEX recall_l2_ins ON recall_items2 USING lhv (v lhv_l2_ops);
INSERT INTO recall_items2 SELECT * FROM recall_items;
ALTER TABLE recall_items RENAME TO recall_items_orig;
ALTER TABLE recall_items2 RENAME TO recall_items;
ANALYZE recall_items;
SELECT pg_temp.recall('<->') >= 0.95 AS l2_inserted_recall_ok;

SELECT indexes FROM lhv_memory;
DROP TABLE recall_items, recall_items_orig, recall_queries;
SELECT indexes, graph_bytes FROM lhv_memory;
