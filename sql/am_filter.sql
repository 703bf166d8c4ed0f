-- am_filter.sql: index scans under WHERE filters. A scan keeps widening its
-- search past lhv.ef_search while the executor wants rows, so
-- ORDER BY ... LIMIT k returns k rows whenever k rows qualify, up to
-- lhv.max_scan_tuples index entries; a NULL query vector returns rows in
-- graph order.

SELECT setseed(0.125);
CREATE TABLE filter_items (id int PRIMARY KEY, v real[], category int, rare bool, tiny bool);
INSERT INTO filter_items
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0),
       i % 10, i % 100 = 7, i IN (11, 2222, 4567, 8000, 9999)
FROM generate_series(1, 10000) i;
-- Rows with no vector are not in the index.
INSERT INTO filter_items VALUES (10001, NULL, 3, true, false), (10002, NULL, 3, true, false);
CREATE INDEX filter_l2 ON filter_items USING lhv (v lhv_l2_ops);
ANALYZE filter_items;
CREATE TABLE filter_queries (qid int PRIMARY KEY, q real[]);
INSERT INTO filter_queries
SELECT j, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE j > 0)
FROM generate_series(1, 20) j;
SET enable_seqscan = off;

-- 10% of the rows qualify: the index scan with a filter on top.
EXPLAIN (COSTS OFF)
SELECT id FROM filter_items WHERE category = 3 ORDER BY v <-> '{0,0,0,0,0,0,0,0}' LIMIT 10;
SELECT count(*) AS rows, bool_and(category = 3) AS all_match
FROM (SELECT id, category FROM filter_items WHERE category = 3
      ORDER BY v <-> '{0,0,0,0,0,0,0,0}' LIMIT 10) s;
-- Every query gets its 10 rows, for a 10% and a 1% filter (the latter needs
-- about 1,000 candidates, far past ef_search = 40), and no row twice.
EXPLAIN (COSTS OFF)
SELECT qid, count(id) FROM filter_queries,
    LATERAL (SELECT id FROM filter_items WHERE rare ORDER BY v <-> q LIMIT 10) s GROUP BY qid;
SELECT count(*) AS queries, bool_and(n = 10) AS all_got_10, bool_and(n = distinct_n) AS no_duplicates
FROM (SELECT qid, count(id) AS n, count(DISTINCT id) AS distinct_n FROM filter_queries,
      LATERAL (SELECT id FROM filter_items WHERE category = 3 ORDER BY v <-> q LIMIT 10) s
      GROUP BY qid) r;
SELECT count(*) AS queries, bool_and(n = 10) AS all_got_10, bool_and(n = distinct_n) AS no_duplicates
FROM (SELECT qid, count(id) AS n, count(DISTINCT id) AS distinct_n FROM filter_queries,
      LATERAL (SELECT id FROM filter_items WHERE rare ORDER BY v <-> q LIMIT 10) s
      GROUP BY qid) r;
-- The rows found under a selective filter are (nearly all) the true nearest
-- rows that pass it.
SET enable_indexscan = off;
SET enable_seqscan = on;
CREATE TEMP TABLE filter_exact AS
SELECT qid, id FROM filter_queries,
    LATERAL (SELECT id FROM filter_items WHERE rare ORDER BY v <-> q LIMIT 10) s;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT count(*) >= 0.9 * 200 AS rare_recall_ok
FROM (SELECT qid, id FROM filter_queries,
      LATERAL (SELECT id FROM filter_items WHERE rare ORDER BY v <-> q LIMIT 10) s) a
JOIN filter_exact USING (qid, id);

-- Only 5 rows qualify: the scan goes on until the graph is exhausted and
-- returns those 5; none qualify: no row.
SELECT array_agg(id ORDER BY id) AS tiny_rows
FROM (SELECT id FROM filter_items WHERE tiny ORDER BY v <-> '{1,1,1,1,1,1,1,1}' LIMIT 10) s;
SELECT count(*) AS none
FROM (SELECT id FROM filter_items WHERE id < 0 ORDER BY v <-> '{1,1,1,1,1,1,1,1}' LIMIT 10) s;

-- A LIMIT far past ef_search: 500 distinct rows, and the first ones are the
-- nearest (the initial search is exact enough on 10,000 rows).
SHOW lhv.ef_search;
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows
FROM (SELECT id FROM filter_items ORDER BY v <-> '{0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5}' LIMIT 500) s;
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows
FROM (SELECT id FROM filter_items ORDER BY v <-> '{0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5}' LIMIT 10000) s;
-- ef_search = 1 still fills a LIMIT 10.
SET lhv.ef_search = 1;
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows
FROM (SELECT id FROM filter_items ORDER BY v <-> '{0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5}' LIMIT 10) s;
SELECT count(*) AS rows
FROM (SELECT id FROM filter_items WHERE category = 5 ORDER BY v <-> '{0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5}' LIMIT 10) s;
RESET lhv.ef_search;

-- lhv.max_scan_tuples caps a scan: with a filter no row passes, exactly that
-- many entries come out of the index.
SET lhv.max_scan_tuples = 100;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM filter_items WHERE category < 0 ORDER BY v <-> '{1,1,1,1,1,1,1,1}' LIMIT 10;
SELECT count(*) AS rows FROM (SELECT id FROM filter_items ORDER BY v <-> '{1,1,1,1,1,1,1,1}' LIMIT 100) s;
RESET lhv.max_scan_tuples;
-- The default: 20,000, more than this table's 10,000 vectors: all of them.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM filter_items WHERE category < 0 ORDER BY v <-> '{1,1,1,1,1,1,1,1}' LIMIT 10;

-- A NULL query vector. A constant NULL is folded away by the planner
-- (v <-> NULL is NULL for every row), so pass it as a subquery's result,
-- which the index sees at run time: no error; rows come in graph order
-- (every distance is NULL, so any order is right), only rows that have a
-- vector, at most lhv.max_scan_tuples of them.
EXPLAIN (COSTS OFF) SELECT id FROM filter_items ORDER BY v <-> (SELECT NULL::real[]) LIMIT 5;
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows, bool_and(d IS NULL) AS null_distances
FROM (SELECT id, v <-> NULL AS d FROM filter_items ORDER BY v <-> (SELECT NULL::real[]) LIMIT 5) s;
SELECT count(*) AS rows, count(DISTINCT id) AS distinct_rows, count(v) AS with_vector
FROM (SELECT id, v FROM filter_items ORDER BY v <-> (SELECT NULL::real[]) LIMIT 20000) s;
SELECT count(*) AS rows, bool_and(rare) AS all_rare
FROM (SELECT id, rare FROM filter_items WHERE rare ORDER BY v <-> (SELECT NULL::real[]) LIMIT 50) s;
SET lhv.max_scan_tuples = 100;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM filter_items WHERE category < 0 ORDER BY v <-> (SELECT NULL::real[]) LIMIT 10;
SELECT count(*) AS rows FROM (SELECT id FROM filter_items ORDER BY v <-> (SELECT NULL::real[]) LIMIT 100) s;
RESET lhv.max_scan_tuples;
-- The NULL vector of a row, through a subquery, and a prepared statement's
-- NULL parameter in a generic plan.
SELECT count(*) FROM (SELECT id FROM filter_items
    ORDER BY v <-> (SELECT v FROM filter_items WHERE id = 10001) LIMIT 7) s;
SET plan_cache_mode = force_generic_plan;
PREPARE filter_knn(real[]) AS
    SELECT count(*) FROM (SELECT id FROM filter_items ORDER BY v <-> $1 LIMIT 7) s;
EXPLAIN (COSTS OFF) EXECUTE filter_knn(NULL);
EXECUTE filter_knn(NULL);
EXECUTE filter_knn('{1,1,1,1,1,1,1,1}');
DEALLOCATE filter_knn;
RESET plan_cache_mode;

-- lhv.max_scan_tuples is bounded by the engine's largest search (100,000):
-- a scan through more than 100,000 vectors with a filter that rejects all
-- stops there, without error.
SET lhv.max_scan_tuples = 100001;
SET lhv.max_scan_tuples = 100000;
CREATE TABLE filter_big (id int, v real[]);
INSERT INTO filter_big SELECT i, ARRAY[i % 1000, i / 1000]::real[] FROM generate_series(1, 110000) i;
CREATE INDEX ON filter_big USING lhv (v lhv_l2_ops) WITH (m = 4, ef_construction = 8);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT id FROM filter_big WHERE id < 0 ORDER BY v <-> '{1,1}' LIMIT 10;
SELECT count(*) FROM (SELECT id FROM filter_big WHERE id = 109999 ORDER BY v <-> '{999,109}' LIMIT 10) s;
DROP TABLE filter_big;
RESET lhv.max_scan_tuples;

RESET enable_seqscan;
DROP TABLE filter_items, filter_queries;
