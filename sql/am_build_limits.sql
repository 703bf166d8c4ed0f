-- am_build_limits.sql: what bounds a CREATE INDEX: its threads are capped as
-- PostgreSQL caps its own parallel index builds (max_parallel_maintenance_workers,
-- the table's parallel_workers, max_worker_processes), whatever
-- lhv.build_threads asks for.

-- An ordinary role that owns its table.
CREATE ROLE regress_lhv_builder;
CREATE SCHEMA lim AUTHORIZATION regress_lhv_builder;
SET ROLE regress_lhv_builder;
CREATE TABLE lim.items (id int PRIMARY KEY, v real[]);
INSERT INTO lim.items SELECT i, ARRAY[i % 17, i % 13, i % 7, i % 5]::real[]
  FROM generate_series(1, 500) i;

-- Each build says how many threads it used (DEBUG1), after PostgreSQL's own
-- "building index ... serially" line (lhv's threads are not parallel workers).
-- Any user may ask for 64 threads ...
SET lhv.build_threads = 64;
-- ... but with no parallel maintenance worker allowed, the build runs on one.
SET max_parallel_maintenance_workers = 0;
SET client_min_messages = debug1;
CREATE INDEX items_v ON lim.items USING lhv (v lhv_l2_ops);
RESET client_min_messages;
DROP INDEX lim.items_v;
-- Two workers allowed: the leader's share plus two.
SET max_parallel_maintenance_workers = 2;
SET client_min_messages = debug1;
CREATE INDEX items_v ON lim.items USING lhv (v lhv_l2_ops);
RESET client_min_messages;
DROP INDEX lim.items_v;
-- Raising max_parallel_maintenance_workers (any user may) stops at
-- max_worker_processes, which only a superuser sets (at server start).
SET max_parallel_maintenance_workers = 1000;
SHOW max_worker_processes;
SET client_min_messages = debug1;
CREATE INDEX items_v ON lim.items USING lhv (v lhv_l2_ops);
RESET client_min_messages;
DROP INDEX lim.items_v;
-- The table's parallel_workers option caps it as well, as for btree.
ALTER TABLE lim.items SET (parallel_workers = 1);
SET client_min_messages = debug1;
CREATE INDEX items_v ON lim.items USING lhv (v lhv_l2_ops);
RESET client_min_messages;
DROP INDEX lim.items_v;
ALTER TABLE lim.items RESET (parallel_workers);
-- lhv.build_threads below the cap is honoured.
SET lhv.build_threads = 3;
SET client_min_messages = debug1;
CREATE INDEX items_v ON lim.items USING lhv (v lhv_l2_ops);
RESET client_min_messages;
RESET max_parallel_maintenance_workers;
RESET lhv.build_threads;
-- The developer settings are a superuser's.
SET lhv.debug_records_per_chunk = 16;
SET lhv.debug_fail_shared_allocation = 1;
RESET ROLE;

DROP SCHEMA lim CASCADE;
DROP ROLE regress_lhv_builder;

-- maintenance_work_mem bounds the vectors a build holds in its memory: it
-- reads a batch of rows, inserts it, reads the next. On one thread the
-- graph is the same whatever the batch size: same answers, same recall.
CREATE TABLE lim_vectors (id int PRIMARY KEY, v real[]);
SELECT setseed(0.25);
INSERT INTO lim_vectors SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 64) WHERE i > 0)
  FROM generate_series(1, 6000) i;
CREATE TABLE lim_queries AS SELECT id AS qid, v FROM lim_vectors WHERE id % 200 = 0;
SET jit = off;
SET lhv.build_threads = 1;
SET maintenance_work_mem = '1MB';  -- 3,971 rows of 64 floats: two batches
SET client_min_messages = debug1;
CREATE INDEX lim_vectors_v ON lim_vectors USING lhv (v lhv_l2_ops);
RESET client_min_messages;
SET enable_seqscan = off;
SET lhv.ef_search = 60;
CREATE TABLE lim_answers_small AS
  SELECT qid, (SELECT array_agg(id) FROM (SELECT id FROM lim_vectors ORDER BY v <-> q.v LIMIT 10) s) AS ids
  FROM lim_queries q;
DROP INDEX lim_vectors_v;
SET maintenance_work_mem = '64MB';  -- one batch
SET client_min_messages = debug1;
CREATE INDEX lim_vectors_v ON lim_vectors USING lhv (v lhv_l2_ops);
RESET client_min_messages;
CREATE TABLE lim_answers_large AS
  SELECT qid, (SELECT array_agg(id) FROM (SELECT id FROM lim_vectors ORDER BY v <-> q.v LIMIT 10) s) AS ids
  FROM lim_queries q;
SELECT count(*) AS queries, count(*) FILTER (WHERE s.ids = l.ids) AS same_answers
FROM lim_answers_small s JOIN lim_answers_large l USING (qid);
-- Recall@10 of both against brute force (the exact order of a sort).
SET enable_seqscan = on;
SET enable_indexscan = off;
SELECT round(avg(cardinality(ARRAY(SELECT unnest(s.ids) INTERSECT
         SELECT id FROM (SELECT id FROM lim_vectors ORDER BY v <-> q.v LIMIT 10) e))) / 10.0, 2) >= 0.9
       AS recall_at_least_0_9
FROM lim_answers_small s JOIN lim_queries q USING (qid);
RESET enable_indexscan;
RESET enable_seqscan;
RESET lhv.ef_search;
RESET maintenance_work_mem;
RESET lhv.build_threads;
RESET jit;
DROP TABLE lim_vectors, lim_queries, lim_answers_small, lim_answers_large;
