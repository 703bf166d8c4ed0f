-- am_ddl.sql: the lhv access method under DDL: plans, operator class
-- validation, index options, the dimension fixed by the first row, NULLs,
-- graphs freed by TRUNCATE / REINDEX / DROP / rollback (lhv_memory),
-- partitioned tables, CREATE INDEX CONCURRENTLY, expression and partial
-- indexes, GUCs.

-- No graph yet in this database.
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;

-- Every operator class validates.
SELECT opcname, amvalidate(c.oid) AS valid
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'lhv' ORDER BY opcname;
-- The default-less access method needs an operator class, which must be one
-- of lhv's, for real[].
CREATE TABLE ddl_items (id int PRIMARY KEY, v real[], category int, note text);
INSERT INTO ddl_items
SELECT i, ARRAY[i % 17, i % 13, i % 7, (i * 7919) % 101]::real[], i % 5, 'row ' || i
FROM generate_series(1, 2000) i;
ANALYZE ddl_items;
CREATE INDEX ON ddl_items USING lhv (v);
CREATE INDEX ON ddl_items USING lhv (note text_ops);
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops, category);
CREATE UNIQUE INDEX ON ddl_items USING lhv (v lhv_l2_ops);
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops) INCLUDE (id);

-- Index options: names and ranges.
\set VERBOSITY sqlstate
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops) WITH (m = 1);
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops) WITH (m = 101);
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops) WITH (m = 'many');
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops) WITH (ef_search = 10);
\set VERBOSITY default
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops) WITH (m = 101);
CREATE INDEX ON ddl_items USING lhv (v lhv_l2_ops) WITH (fillfactor = 50);
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;

-- The bounds themselves are accepted.
CREATE INDEX ddl_m2 ON ddl_items USING lhv (v lhv_l2_ops) WITH (m = 2, ef_construction = 4);
CREATE INDEX ddl_m100 ON ddl_items USING lhv (v lhv_l2_ops) WITH (m = 100, ef_construction = 1000);
SELECT relname, reloptions FROM pg_class WHERE relname IN ('ddl_m2', 'ddl_m100') ORDER BY 1;
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;
DROP INDEX ddl_m2, ddl_m100;
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;

-- Plans.
CREATE INDEX ddl_l2 ON ddl_items USING lhv (v lhv_l2_ops) WITH (m = 8, ef_construction = 32);
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;
-- ORDER BY the opclass's operator with a LIMIT: the index.
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <-> '{1,2,3,4}' LIMIT 5;
-- The query vector may be a parameter or come from a subquery.
PREPARE ddl_knn(real[]) AS SELECT id FROM ddl_items ORDER BY v <-> $1 LIMIT 5;
EXPLAIN (COSTS OFF) EXECUTE ddl_knn('{1,2,3,4}');
EXPLAIN (COSTS OFF)
SELECT id FROM ddl_items ORDER BY v <-> (SELECT v FROM ddl_items WHERE id = 7) LIMIT 5;
-- LIMIT $n: custom plans use the index, and so the plan cache never
-- switches to a generic plan (which cannot see the LIMIT, so it sorts).
PREPARE ddl_knn_n(real[], int) AS SELECT id FROM ddl_items ORDER BY v <-> $1 LIMIT $2;
EXECUTE ddl_knn_n('{1,2,3,4}', 2);
EXECUTE ddl_knn_n('{1,2,3,4}', 2);
EXECUTE ddl_knn_n('{1,2,3,4}', 2);
EXECUTE ddl_knn_n('{1,2,3,4}', 2);
EXECUTE ddl_knn_n('{1,2,3,4}', 2);
EXPLAIN (COSTS OFF) EXECUTE ddl_knn_n('{1,2,3,4}', 2);
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE ddl_knn_n('{1,2,3,4}', 2);
RESET plan_cache_mode;
DEALLOCATE ddl_knn;
DEALLOCATE ddl_knn_n;
-- The same results by a sort (the extra sort key keeps the index out) and
-- by the index.
SELECT id, v <-> '{1,2,3,4}' AS d FROM ddl_items ORDER BY v <-> '{1,2,3,4}', id LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id, v <-> '{1,2,3,4}' AS d FROM ddl_items ORDER BY v <-> '{1,2,3,4}' LIMIT 3;
SELECT id, v <-> '{1,2,3,4}' AS d FROM ddl_items ORDER BY v <-> '{1,2,3,4}' LIMIT 3;
-- No LIMIT: a sort over the table, not the index (which could stop early),
-- even when seq scans and sorts are disabled.
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <-> '{1,2,3,4}';
SET enable_seqscan = off;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <-> '{1,2,3,4}';
SELECT count(*) FROM (SELECT id FROM ddl_items ORDER BY v <-> '{1,2,3,4}') s;
RESET enable_seqscan;
RESET enable_sort;
-- Nor for GROUP BY / DISTINCT on top, where the LIMIT does not reach the scan.
EXPLAIN (COSTS OFF)
SELECT DISTINCT category FROM (SELECT category FROM ddl_items ORDER BY v <-> '{1,2,3,4}') s LIMIT 2;
-- A LIMIT past lhv.max_scan_tuples: a sort.
SET lhv.max_scan_tuples = 100;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <-> '{1,2,3,4}' LIMIT 101;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <-> '{1,2,3,4}' LIMIT 100;
RESET lhv.max_scan_tuples;
-- Another operator than the opclass's: not the index.
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <=> '{1,2,3,4}' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <#> '{1,2,3,4}' LIMIT 5;
-- Descending order: not the index.
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <-> '{1,2,3,4}' DESC LIMIT 5;
-- WHERE only: never the index, even with other plans disabled.
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items WHERE v = '{1,2,3,4}';
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items WHERE v <-> '{1,2,3,4}' < 1;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items WHERE v <-> '{1,2,3,4}' < 1;
SELECT count(*) FROM ddl_items WHERE v <-> '{1,2,3,4}' < 1;
RESET enable_seqscan;
-- A scan without ORDER BY is never planned on the index, even when every
-- other plan is disabled (the access method cannot answer it).
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM ddl_items WHERE category = 1;
SELECT count(*) FROM ddl_items WHERE category = 1;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- The dimension is fixed by the first row: 4 here.
\set VERBOSITY sqlstate
INSERT INTO ddl_items VALUES (5001, '{1,2,3}', 0);
INSERT INTO ddl_items VALUES (5002, '{1,2,3,4,5}', 0);
\set VERBOSITY default
INSERT INTO ddl_items VALUES (5001, '{1,2,3}', 0);
SELECT count(*) AS rows_not_stored FROM ddl_items WHERE id > 5000;
-- Bad vectors are rejected with their SQLSTATE and not stored.
\set VERBOSITY sqlstate
INSERT INTO ddl_items VALUES (5003, '{1,NaN,3,4}', 0);
INSERT INTO ddl_items VALUES (5004, '{1,NULL,3,4}', 0);
INSERT INTO ddl_items VALUES (5005, '{{1,2},{3,4}}', 0);
UPDATE ddl_items SET v = '{1,2}' WHERE id = 1;
\set VERBOSITY default
SELECT count(*) AS rows_not_stored FROM ddl_items WHERE id > 5000;
SELECT v FROM ddl_items WHERE id = 1;
-- A row of the right dimension goes in and is found.
INSERT INTO ddl_items VALUES (5006, '{100,100,100,100}', 0);
SELECT id FROM ddl_items ORDER BY v <-> '{99,99,99,99}' LIMIT 1;
-- A first row that is rolled back still fixes the dimension (the graph is
-- not transactional) until a VACUUM finds no live row in the index.
CREATE TABLE ddl_dim (id int, v real[]);
CREATE INDEX ddl_dim_idx ON ddl_dim USING lhv (v lhv_l2_ops);
BEGIN;
INSERT INTO ddl_dim VALUES (1, '{1,2,3}');
ROLLBACK;
INSERT INTO ddl_dim VALUES (2, '{1,2}');
VACUUM ddl_dim;
INSERT INTO ddl_dim VALUES (2, '{1,2}');
SET enable_seqscan = off;
SELECT id FROM ddl_dim ORDER BY v <-> '{1,2}' LIMIT 5;
RESET enable_seqscan;
DROP TABLE ddl_dim;
-- A table mixing dimensions cannot be indexed.
CREATE TABLE ddl_mixed (v real[]);
INSERT INTO ddl_mixed VALUES ('{1,2}'), ('{1,2,3}');
\set VERBOSITY sqlstate
CREATE INDEX ON ddl_mixed USING lhv (v lhv_l2_ops);
\set VERBOSITY default
CREATE INDEX ON ddl_mixed USING lhv (v lhv_l2_ops);
DROP TABLE ddl_mixed;
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;

-- An index on an empty table: no graph memory until the first row, whose
-- dimension then fixes the index's.
CREATE TABLE ddl_empty (id int, v real[]);
CREATE INDEX ddl_empty_idx ON ddl_empty USING lhv (v lhv_cosine_ops);
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_empty ORDER BY v <=> '{1,0}' LIMIT 5;
SELECT id FROM ddl_empty ORDER BY v <=> '{1,0}' LIMIT 5;
-- NULL vectors are not indexed, and do not fix the dimension.
INSERT INTO ddl_empty VALUES (0, NULL);
SELECT id FROM ddl_empty ORDER BY v <=> '{1,0}' LIMIT 5;
INSERT INTO ddl_empty VALUES (1, '{1,0}'), (2, '{0,1}'), (3, '{1,1}'), (4, NULL), (5, '{-1,0.1}');
SELECT id FROM ddl_empty ORDER BY v <=> '{1,0}' LIMIT 5;
SELECT id FROM ddl_empty ORDER BY v <=> '{1,0}' LIMIT 2;
\set VERBOSITY sqlstate
INSERT INTO ddl_empty VALUES (6, '{1,0,0}');
-- A zero vector has no direction: rejected by a cosine index.
INSERT INTO ddl_empty VALUES (7, '{0,0}');
\set VERBOSITY default
SELECT count(*) FROM ddl_empty;
SELECT count(*) FROM ddl_empty WHERE v IS NULL;
RESET enable_seqscan;
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;
-- A zero vector also fails the build of a cosine index.
CREATE TABLE ddl_zero (v real[]);
INSERT INTO ddl_zero VALUES ('{1,2}'), ('{0,0}');
CREATE INDEX ON ddl_zero USING lhv (v lhv_cosine_ops);
CREATE INDEX ON ddl_zero USING lhv (v lhv_l2_ops);
DROP TABLE ddl_zero;
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;

-- TRUNCATE frees the graph's vectors (the index stays, empty).
TRUNCATE ddl_empty;
SELECT indexes FROM lhv_memory;
SET enable_seqscan = off;
SELECT id FROM ddl_empty ORDER BY v <=> '{1,0}' LIMIT 5;
-- After a TRUNCATE, the next first row fixes the dimension again.
INSERT INTO ddl_empty VALUES (10, '{1,0,0}'), (11, '{0,1,0}');
SELECT id FROM ddl_empty ORDER BY v <=> '{0,1,0}' LIMIT 1;
RESET enable_seqscan;
-- A rolled-back TRUNCATE keeps the rows, and the index still finds them.
BEGIN;
TRUNCATE ddl_empty;
ROLLBACK;
SET enable_seqscan = off;
SELECT id FROM ddl_empty ORDER BY v <=> '{0,1,0}' LIMIT 1;
RESET enable_seqscan;
-- DROP TABLE frees its index's graph.
SELECT indexes FROM lhv_memory;
DROP TABLE ddl_empty;
SELECT indexes FROM lhv_memory;

-- REINDEX rebuilds the graph: same answers (a query with no ties), which
-- are the exact ones (the extra sort key makes this one a sort).
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM ddl_items ORDER BY v <-> '{3.1,2.9,3.3,2.7}', id LIMIT 4) s;
SET enable_seqscan = off;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM ddl_items ORDER BY v <-> '{3.1,2.9,3.3,2.7}' LIMIT 4) s;
REINDEX INDEX ddl_l2;
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM ddl_items ORDER BY v <-> '{3.1,2.9,3.3,2.7}' LIMIT 4) s;
REINDEX TABLE ddl_items;
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;
REINDEX INDEX CONCURRENTLY ddl_l2;
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM ddl_items ORDER BY v <-> '{3.1,2.9,3.3,2.7}' LIMIT 4) s;
-- A rolled-back REINDEX leaves a working index (its graph is rebuilt from
-- the table at first use if the REINDEX had freed it).
BEGIN;
REINDEX INDEX ddl_l2;
ROLLBACK;
SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM ddl_items ORDER BY v <-> '{3.1,2.9,3.3,2.7}' LIMIT 4) s;
SELECT indexes, graph_bytes > 0 AS has_graphs FROM lhv_memory;
RESET enable_seqscan;

-- A rolled-back CREATE INDEX frees its graph; so does a rolled-back
-- savepoint; a released savepoint keeps it until the end.
BEGIN;
CREATE INDEX ddl_tx ON ddl_items USING lhv (v lhv_ip_ops);
SELECT indexes FROM lhv_memory;
ROLLBACK;
SELECT indexes FROM lhv_memory;
BEGIN;
SAVEPOINT s1;
CREATE INDEX ddl_tx ON ddl_items USING lhv (v lhv_ip_ops);
SELECT indexes FROM lhv_memory;
ROLLBACK TO SAVEPOINT s1;
SELECT indexes FROM lhv_memory;
SAVEPOINT s2;
CREATE INDEX ddl_tx ON ddl_items USING lhv (v lhv_ip_ops);
RELEASE SAVEPOINT s2;
SELECT indexes FROM lhv_memory;
COMMIT;
SELECT indexes FROM lhv_memory;
-- A failing statement after the build, in the same transaction.
BEGIN;
CREATE INDEX ddl_tx2 ON ddl_items USING lhv (v lhv_cosine_ops);
SELECT indexes FROM lhv_memory;
SELECT 1 / 0;
ROLLBACK;
SELECT indexes FROM lhv_memory;
-- A rolled-back DROP INDEX keeps the graph and the index works.
BEGIN;
DROP INDEX ddl_tx;
ROLLBACK;
SELECT indexes FROM lhv_memory;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <#> '{1,1,1,1}' LIMIT 3;
SELECT count(*) FROM (SELECT id FROM ddl_items ORDER BY v <#> '{1,1,1,1}' LIMIT 3) s;
RESET enable_seqscan;
-- DROP INDEX in a savepoint that is rolled back, then committed drop.
BEGIN;
SAVEPOINT s1;
DROP INDEX ddl_tx;
ROLLBACK TO SAVEPOINT s1;
COMMIT;
SELECT indexes FROM lhv_memory;
DROP INDEX ddl_tx;
SELECT indexes FROM lhv_memory;

-- CREATE INDEX CONCURRENTLY builds a working index.
CREATE INDEX CONCURRENTLY ddl_cic ON ddl_items USING lhv (v lhv_cosine_ops);
SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = 'ddl_cic'::regclass;
SELECT indexes FROM lhv_memory;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_items ORDER BY v <=> '{100,100,100,100}' LIMIT 1;
SELECT id FROM ddl_items ORDER BY v <=> '{100,100,100,100}' LIMIT 1;
RESET enable_seqscan;
DROP INDEX CONCURRENTLY ddl_cic;
SELECT indexes FROM lhv_memory;

-- Expression index: the opclass's operator on the same expression.
CREATE TABLE ddl_expr (id int, a real, b real);
INSERT INTO ddl_expr SELECT i, i, i * 2 FROM generate_series(1, 100) i;
CREATE INDEX ddl_expr_idx ON ddl_expr USING lhv ((ARRAY[a, b]) lhv_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_expr ORDER BY ARRAY[a, b] <-> '{10,20}' LIMIT 3;
SELECT id FROM ddl_expr ORDER BY ARRAY[a, b] <-> '{10.2,20.2}' LIMIT 3;
RESET enable_seqscan;
-- Partial index: used when the query implies its predicate.
CREATE TABLE ddl_part (id int, v real[], kind text);
INSERT INTO ddl_part SELECT i, ARRAY[i, 0]::real[], CASE WHEN i % 2 = 0 THEN 'even' ELSE 'odd' END
FROM generate_series(1, 200) i;
CREATE INDEX ddl_part_idx ON ddl_part USING lhv (v lhv_l2_ops) WHERE kind = 'even';
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_part WHERE kind = 'even' ORDER BY v <-> '{51.2,0}' LIMIT 3;
SELECT id FROM ddl_part WHERE kind = 'even' ORDER BY v <-> '{51.2,0}' LIMIT 3;
-- A query that does not imply the predicate: not the partial index.
EXPLAIN (COSTS OFF) SELECT id FROM ddl_part ORDER BY v <-> '{51.2,0}' LIMIT 3;
SELECT id FROM ddl_part ORDER BY v <-> '{51.2,0}' LIMIT 3;
-- Rows inserted later go into the partial index only if they match.
INSERT INTO ddl_part VALUES (1000, '{51,0}', 'odd'), (1001, '{51.1,0}', 'even');
SELECT id FROM ddl_part WHERE kind = 'even' ORDER BY v <-> '{51.2,0}' LIMIT 2;
RESET enable_seqscan;
DROP TABLE ddl_expr, ddl_part;
SELECT indexes FROM lhv_memory;

-- Partitioned table: an index on the parent is one graph per partition, and
-- ORDER BY ... LIMIT merges the partitions into the global nearest rows.
CREATE TABLE ddl_parted (id int, v real[], region int) PARTITION BY LIST (region);
CREATE TABLE ddl_parted_0 PARTITION OF ddl_parted FOR VALUES IN (0);
CREATE TABLE ddl_parted_1 PARTITION OF ddl_parted FOR VALUES IN (1);
CREATE TABLE ddl_parted_2 PARTITION OF ddl_parted FOR VALUES IN (2);
INSERT INTO ddl_parted
SELECT i, ARRAY[(i * 37) % 101, (i * 53) % 103, (i * 11) % 97]::real[], i % 3
FROM generate_series(1, 3000) i;
CREATE INDEX ddl_parted_idx ON ddl_parted USING lhv (v lhv_l2_ops);
SELECT indexes FROM lhv_memory;
ANALYZE ddl_parted;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ddl_parted ORDER BY v <-> '{50,50,50}' LIMIT 10;
CREATE TEMP TABLE ddl_parted_ann AS
SELECT id FROM ddl_parted ORDER BY v <-> '{50,50,50}' LIMIT 10;
RESET enable_seqscan;
SET enable_indexscan = off;
CREATE TEMP TABLE ddl_parted_exact AS
SELECT id FROM ddl_parted ORDER BY v <-> '{50,50,50}' LIMIT 10;
RESET enable_indexscan;
SELECT (SELECT array_agg(id ORDER BY id) FROM ddl_parted_ann) =
       (SELECT array_agg(id ORDER BY id) FROM ddl_parted_exact) AS same_as_brute_force;
-- A new partition gets its own index and graph.
CREATE TABLE ddl_parted_3 PARTITION OF ddl_parted FOR VALUES IN (3);
SELECT indexes FROM lhv_memory;
INSERT INTO ddl_parted VALUES (9999, '{50,50,50}', 3);
SET enable_seqscan = off;
SELECT id FROM ddl_parted ORDER BY v <-> '{50,50,50.5}' LIMIT 1;
RESET enable_seqscan;
-- Detached partitions keep their index; DROP TABLE of the parent frees all.
ALTER TABLE ddl_parted DETACH PARTITION ddl_parted_3;
SELECT indexes FROM lhv_memory;
DROP TABLE ddl_parted, ddl_parted_3;
SELECT indexes FROM lhv_memory;

-- GUCs: ranges, SET LOCAL.
SHOW lhv.ef_search;
SHOW lhv.max_scan_tuples;
SHOW lhv.build_threads;
SET lhv.ef_search = 0;
SET lhv.ef_search = 1001;
SET lhv.max_scan_tuples = 0;
SET lhv.build_threads = -1;
SET lhv.build_threads = 65;
SET lhv.ef_search = 1000;
SET lhv.ef_search = 1;
RESET lhv.ef_search;
BEGIN;
SET LOCAL lhv.ef_search = 200;
SHOW lhv.ef_search;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ddl_items ORDER BY v <-> '{1,2,3,4}' LIMIT 5) s;
COMMIT;
SHOW lhv.ef_search;
RESET enable_seqscan;
-- A build with one thread gives a working index.
SET lhv.build_threads = 1;
CREATE INDEX ddl_one_thread ON ddl_items USING lhv (v lhv_l2_ops);
RESET lhv.build_threads;
SELECT indexes FROM lhv_memory;

-- Index properties as the catalog reports them.
SELECT pg_indexam_has_property(a.oid, p) AS has, p
FROM pg_am a, unnest(ARRAY['can_order', 'can_unique', 'can_multi_col', 'can_include']) p
WHERE a.amname = 'lhv';
SELECT pg_index_column_has_property('ddl_l2'::regclass, 1, p) AS has, p
FROM unnest(ARRAY['orderable', 'returnable', 'search_array', 'search_nulls']) p;

-- CLUSTER cannot use it.
CLUSTER ddl_items USING ddl_l2;

-- DROP EXTENSION with lhv indexes needs CASCADE, and frees every graph.
\set VERBOSITY terse
DROP EXTENSION lhv;
SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%USING lhv%';
SET client_min_messages = warning;
DROP EXTENSION lhv CASCADE;
RESET client_min_messages;
\set VERBOSITY default
SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%USING lhv%';
CREATE EXTENSION lhv;
SELECT indexes, graph_bytes FROM lhv_memory;
DROP TABLE ddl_items;
