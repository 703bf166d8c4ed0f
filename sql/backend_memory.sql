-- backend_memory.sql: what a backend keeps for lhv in its own memory
-- (lhv_backend_memory): one small view per graph it used, whatever the
-- graph's size, and none for graphs that were dropped, replaced or rolled
-- back.

SELECT current_database() AS regress_db \gset
\c :regress_db
SELECT * FROM lhv_backend_memory();

CREATE TABLE bm_small (id int, v real[]);
INSERT INTO bm_small SELECT i, ARRAY[i % 17, i % 13, i % 7, i % 5]::real[] FROM generate_series(1, 1000) i;
CREATE INDEX bm_small_v ON bm_small USING lhv (v lhv_l2_ops);
CREATE TABLE bm_large (id int, v real[]);
SELECT setseed(0.5);
INSERT INTO bm_large SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)
  FROM generate_series(1, 40000) i;
CREATE INDEX bm_large_v ON bm_large USING lhv (v lhv_l2_ops) WITH (m = 8, ef_construction = 32);

-- A fresh backend searches the small graph, then the large one (40 times
-- the elements): each view stays a few kB plus the visited set of its
-- searches (sized by ef, not by the graph: 2 bytes per element would be
-- 80 kB for the large graph alone).
\c :regress_db
SET enable_seqscan = off;
SET lhv.ef_search = 100;
SELECT count(*) FROM (SELECT id FROM bm_small ORDER BY v <-> '{1,2,3,4}' LIMIT 10) s;
SELECT graph_views, view_bytes AS small_view_bytes FROM lhv_backend_memory() \gset
SELECT :graph_views AS views, :small_view_bytes < 40000 AS small_view_is_small;
SELECT count(*) FROM (SELECT id FROM bm_large ORDER BY v <-> '{0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5}' LIMIT 10) s;
SELECT graph_views, view_bytes - :small_view_bytes AS large_view_bytes FROM lhv_backend_memory() \gset
SELECT :graph_views AS views, :large_view_bytes < 40000 AS large_view_is_small;

-- REINDEX replaces a graph: the view of the old one goes at commit (the
-- REINDEX itself made one of the new graph, which the next search uses).
REINDEX INDEX bm_small_v;
SELECT graph_views, retired_views FROM lhv_backend_memory();
SELECT count(*) FROM (SELECT id FROM bm_small ORDER BY v <-> '{1,2,3,4}' LIMIT 10) s;
SELECT graph_views, retired_views FROM lhv_backend_memory();

-- Within a transaction a view of a dropped graph is only retired (a scan
-- of the transaction may still hold it), and freed when it ends.
BEGIN;
SELECT count(*) FROM (SELECT id FROM bm_small ORDER BY v <-> '{1,2,3,4}' LIMIT 10) s;
TRUNCATE bm_small;
SELECT graph_views, retired_views FROM lhv_backend_memory();
COMMIT;
SELECT graph_views, retired_views FROM lhv_backend_memory();

-- A CREATE INDEX that rolls back after a search leaves no view behind.
BEGIN;
CREATE INDEX bm_large_v2 ON bm_large USING lhv (v lhv_cosine_ops);
SELECT count(*) FROM (SELECT id FROM bm_large ORDER BY v <=> '{0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5}' LIMIT 10) s;
SELECT graph_views FROM lhv_backend_memory();
ROLLBACK;
SELECT graph_views, retired_views FROM lhv_backend_memory();

-- DROP: no view left.
DROP TABLE bm_small, bm_large;
SELECT graph_views, retired_views, view_bytes FROM lhv_backend_memory();
