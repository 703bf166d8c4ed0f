-- am_vacuum.sql: churn. UPDATEs and DELETEs leave dead rows in the graph
-- until VACUUM marks them deleted and repairs the neighbour lists; results
-- stay right before and after, recall holds, graph memory is not lost, and
-- the table takes inserts afterwards (heap TIDs get reused).

SELECT setseed(0.77);
CREATE TABLE vac_items (id int PRIMARY KEY, v real[], gen int DEFAULT 0)
    WITH (autovacuum_enabled = off);
INSERT INTO vac_items
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE i > 0)
FROM generate_series(1, 6000) i;
CREATE INDEX vac_l2 ON vac_items USING lhv (v lhv_l2_ops);
ANALYZE vac_items;
CREATE TABLE vac_queries (qid int PRIMARY KEY, q real[]);
INSERT INTO vac_queries
SELECT j, ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE j > 0)
FROM generate_series(1, 30) j;
SELECT indexes, graph_bytes > 0 AS has_graph FROM lhv_memory;
CREATE TEMP TABLE vac_bytes AS SELECT graph_bytes AS after_build FROM lhv_memory;

-- recall@10 against brute force over the current rows.
CREATE FUNCTION pg_temp.vac_recall() RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE hits bigint;
BEGIN
    SET LOCAL enable_indexscan = off;
    CREATE TEMP TABLE vac_exact ON COMMIT DROP AS
    SELECT qid, id FROM vac_queries, LATERAL (SELECT id FROM vac_items ORDER BY v <-> q LIMIT 10) s;
    SET LOCAL enable_indexscan = on;
    SET LOCAL enable_seqscan = off;
    SELECT count(*) INTO hits FROM vac_queries,
        LATERAL (SELECT id FROM vac_items ORDER BY v <-> q LIMIT 10) s
        JOIN vac_exact e USING (id) WHERE e.qid = vac_queries.qid;
    DROP TABLE vac_exact;
    RETURN hits / 300.0;
END $$;
SELECT pg_temp.vac_recall() >= 0.95 AS recall_ok;

SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT qid, id FROM vac_queries, LATERAL (SELECT id FROM vac_items ORDER BY v <-> q LIMIT 10) s;
CREATE TEMP TABLE vac_deleted_tids AS SELECT ctid AS tid FROM vac_items WHERE id % 2 = 0;
-- Delete half of the rows and move a third of the rest far away (each
-- UPDATE adds a new graph element; the old one is dead).
DELETE FROM vac_items WHERE id % 2 = 0;
UPDATE vac_items SET v = ARRAY(SELECT (10 + random())::real FROM generate_series(1, 16) WHERE id > 0),
                     gen = 1
WHERE id % 3 = 0;
-- Before VACUUM: dead rows are skipped (the executor checks visibility) and
-- the scan widens past them, so every query still gets 10 live rows.
SELECT count(*) AS queries, bool_and(n = 10) AS all_got_10, bool_and(no_deleted) AS no_deleted_rows
FROM (SELECT qid, count(*) AS n, bool_and(id % 2 = 1) AS no_deleted
      FROM vac_queries, LATERAL (SELECT id FROM vac_items ORDER BY v <-> q LIMIT 10) s
      GROUP BY qid) r;
-- Moved rows are found at their new position, and only there.
SELECT count(*) AS rows, bool_and(gen = 1) AS all_moved
FROM (SELECT id, gen FROM vac_items ORDER BY v <-> array_fill(10.5::real, ARRAY[16]) LIMIT 20) s;
SELECT count(*) AS moved_rows_near_origin
FROM (SELECT id, gen FROM vac_items ORDER BY v <-> array_fill(0.5::real, ARRAY[16]) LIMIT 50) s
WHERE gen = 1;
SELECT pg_temp.vac_recall() >= 0.95 AS recall_ok_before_vacuum;

VACUUM vac_items;
SELECT indexes, graph_bytes > 0 AS has_graph FROM lhv_memory;
-- The graph kept its memory for the deleted elements (they are marked, not
-- freed), so it did not shrink below its size after the build.
SELECT graph_bytes >= after_build AS not_shrunk FROM lhv_memory, vac_bytes;
-- The same answers after VACUUM.
SELECT count(*) AS queries, bool_and(n = 10) AS all_got_10, bool_and(no_deleted) AS no_deleted_rows
FROM (SELECT qid, count(*) AS n, bool_and(id % 2 = 1) AS no_deleted
      FROM vac_queries, LATERAL (SELECT id FROM vac_items ORDER BY v <-> q LIMIT 10) s
      GROUP BY qid) r;
SELECT count(*) AS rows, bool_and(gen = 1) AS all_moved
FROM (SELECT id, gen FROM vac_items ORDER BY v <-> array_fill(10.5::real, ARRAY[16]) LIMIT 20) s;
SELECT pg_temp.vac_recall() >= 0.95 AS recall_ok_after_vacuum;
-- Deleted elements are no longer returned by the index at all: a filter that
-- rejects every row sees exactly the live rows (3000) come out.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM vac_items WHERE gen < 0 ORDER BY v <-> array_fill(0.5::real, ARRAY[16]) LIMIT 10;

-- Inserts after VACUUM reuse the freed heap slots: the new rows are found,
-- and the old elements with the same TIDs are not returned for them.
INSERT INTO vac_items
SELECT 10000 + i, ARRAY(SELECT (-10 - random())::real FROM generate_series(1, 16) WHERE i > 0), 2
FROM generate_series(1, 3000) i;
SELECT count(*) > 0 AS tids_reused
FROM vac_items WHERE gen = 2 AND ctid IN (SELECT tid FROM vac_deleted_tids);
SELECT count(*) AS rows, bool_and(gen = 2) AS all_new
FROM (SELECT id, gen FROM vac_items ORDER BY v <-> array_fill(-10.5::real, ARRAY[16]) LIMIT 100) s;
-- A query near the vectors of deleted rows never gets the new rows that took
-- their TIDs (those are 10 units away in every dimension).
SELECT count(*) AS queries, bool_and(n = 10) AS all_got_10, bool_and(none_new) AS no_new_rows
FROM (SELECT qid, count(*) AS n, bool_and(id < 10000) AS none_new
      FROM vac_queries, LATERAL (SELECT id FROM vac_items ORDER BY v <-> q LIMIT 10) s
      GROUP BY qid) r;
SELECT pg_temp.vac_recall() >= 0.95 AS recall_ok_after_inserts;

-- A second round: delete everything that was moved, vacuum twice (the second
-- VACUUM has nothing to do), and the rest is still found.
DELETE FROM vac_items WHERE gen = 1;
VACUUM vac_items;
VACUUM vac_items;
SELECT count(*) AS live_rows FROM vac_items WHERE id > 0;
SELECT count(*) AS rows, bool_and(gen = 0) AS none_moved
FROM (SELECT id, gen FROM vac_items ORDER BY v <-> array_fill(10.5::real, ARRAY[16]) LIMIT 20) s;
SELECT pg_temp.vac_recall() >= 0.95 AS recall_ok_second_round;

-- Steady churn: a quarter of the rows updated (moved a little), then VACUUM,
-- four times. Each UPDATE adds an element; VACUUM deletes the old ones and,
-- once it has rewired the lists around them, later inserts reuse them, so
-- the graph stays near the live row count instead of growing by every row
-- version ever written (1,500 per round), and recall holds.
SELECT count(*) AS live_before_churn FROM vac_items;
SELECT elements AS elements_before_churn FROM lhv_indexes WHERE index = 'vac_l2'::regclass \gset
UPDATE vac_items SET v = ARRAY(SELECT (x + 0.001)::real FROM unnest(v) x) WHERE id % 4 = 0;
VACUUM vac_items;
UPDATE vac_items SET v = ARRAY(SELECT (x + 0.001)::real FROM unnest(v) x) WHERE id % 4 = 1;
VACUUM vac_items;
UPDATE vac_items SET v = ARRAY(SELECT (x + 0.001)::real FROM unnest(v) x) WHERE id % 4 = 2;
VACUUM vac_items;
UPDATE vac_items SET v = ARRAY(SELECT (x + 0.001)::real FROM unnest(v) x) WHERE id % 4 = 3;
VACUUM vac_items;
SELECT elements - :elements_before_churn AS elements_added_by_churn,
       elements - deleted AS live_elements
FROM lhv_indexes WHERE index = 'vac_l2'::regclass;
SELECT pg_temp.vac_recall() >= 0.95 AS recall_ok_after_churn;

-- Deleting every row: an index scan returns nothing, then new rows. A
-- VACUUM that leaves the graph with no live element frees it (the index is
-- as new: the next row fixes the dimension again).
DELETE FROM vac_items;
SELECT count(*) FROM (SELECT id FROM vac_items ORDER BY v <-> array_fill(0.5::real, ARRAY[16]) LIMIT 10) s;
VACUUM vac_items;
SELECT indexes, graph_bytes > 0 AS has_graph FROM lhv_memory;
SELECT count(*) FROM (SELECT id FROM vac_items ORDER BY v <-> array_fill(0.5::real, ARRAY[16]) LIMIT 10) s;
INSERT INTO vac_items VALUES (3, '{1,2,3}');
SELECT id FROM vac_items ORDER BY v <-> '{1,2,3}' LIMIT 10;
DELETE FROM vac_items;
VACUUM vac_items;
INSERT INTO vac_items VALUES (1, array_fill(0.5::real, ARRAY[16]));
SELECT id FROM vac_items ORDER BY v <-> array_fill(0.5::real, ARRAY[16]) LIMIT 10;
-- VACUUM FULL rewrites the table and rebuilds the index.
INSERT INTO vac_items VALUES (2, array_fill(0.25::real, ARRAY[16]));
VACUUM FULL vac_items;
SELECT indexes FROM lhv_memory;
SELECT id FROM vac_items ORDER BY v <-> array_fill(0.3::real, ARRAY[16]) LIMIT 10;
-- VACUUM (ANALYZE) and ANALYZE alone.
VACUUM (ANALYZE) vac_items;
ANALYZE vac_items;
RESET enable_seqscan;

DROP TABLE vac_items, vac_queries;
SELECT indexes, graph_bytes FROM lhv_memory;
