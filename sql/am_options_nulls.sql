-- am_options_nulls.sql: what ALTER INDEX ... SET does to an lhv index (the
-- options are kept and apply at the next REINDEX, as in pgvector), and rows
-- whose vector is NULL, which the index does not hold, so index scans never
-- return them, whatever the LIMIT.

CREATE TABLE opt_items (id int PRIMARY KEY, v real[]);
INSERT INTO opt_items SELECT i, ARRAY[i % 17, i % 13, i % 7, i % 5]::real[]
  FROM generate_series(1, 400) i;
CREATE INDEX opt_items_v ON opt_items USING lhv (v lhv_l2_ops) WITH (m = 16);

-- The m the graph was built with, from its newest snapshot's envelope
-- (CREATE INDEX and REINDEX write one; the graph is small, one part).
CREATE FUNCTION opt_graph_m() RETURNS jsonb LANGUAGE sql AS $$
  SELECT lhv_snapshot_info(data) -> 'params' -> 'm' FROM lhv_snapshot
  WHERE index_oid = 'opt_items_v'::regclass AND parts = 1
  ORDER BY created DESC, snapshot_no DESC LIMIT 1 $$;
SELECT opt_graph_m() AS m_built;

-- ALTER INDEX SET is accepted and stored, but the graph keeps its m ...
ALTER INDEX opt_items_v SET (m = 8);
SELECT reloptions FROM pg_class WHERE relname = 'opt_items_v';
SELECT lhv_snapshot('opt_items_v') > 0 AS snapshot_written;
SELECT opt_graph_m() AS m_after_alter;
-- ... until REINDEX builds it again with m = 8.
REINDEX INDEX opt_items_v;
SELECT opt_graph_m() AS m_after_reindex;
-- Out-of-range values are refused, by ALTER as by CREATE.
\set VERBOSITY sqlstate
ALTER INDEX opt_items_v SET (m = 1);
ALTER INDEX opt_items_v SET (ef_construction = 5000);
\set VERBOSITY default
ALTER INDEX opt_items_v RESET (m);
SELECT reloptions FROM pg_class WHERE relname = 'opt_items_v';

-- NULL vectors: 3 rows of the 403 are not in the index.
INSERT INTO opt_items VALUES (1001, NULL), (1002, NULL), (1003, NULL);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM opt_items ORDER BY v <-> '{1,1,1,1}' LIMIT 1000;
-- An index scan returns the 400 rows with a vector and none of the NULLs,
-- even with a LIMIT above the row count.
SELECT count(*) AS rows, count(*) FILTER (WHERE v IS NULL) AS null_rows
  FROM (SELECT id, v FROM opt_items ORDER BY v <-> '{1,1,1,1}' LIMIT 1000) s;
-- Without the index the NULL rows come last (a NULL distance sorts last).
RESET enable_seqscan;
RESET enable_bitmapscan;
SET enable_indexscan = off;
SELECT count(*) AS rows, count(*) FILTER (WHERE v IS NULL) AS null_rows
  FROM (SELECT id, v FROM opt_items ORDER BY v <-> '{1,1,1,1}' LIMIT 1000) s;
RESET enable_indexscan;

DROP TABLE opt_items;
DROP FUNCTION opt_graph_m();
