-- storage: what an lhv index writes for durability: its metapage and change
-- log (lhv_index_storage), its snapshots (lhv_snapshot rows), and how DDL and
-- transactions keep them in step (a rolled-back build leaves none, a
-- rolled-back REINDEX keeps the old one, DROP removes them).
CREATE TABLE st (id int PRIMARY KEY, v real[]);
INSERT INTO st SELECT i, ARRAY[i, i % 7, 1]::real[] FROM generate_series(1, 300) i;

-- A rolled-back CREATE INDEX leaves no snapshot.
BEGIN;
CREATE INDEX st_l2 ON st USING lhv (v lhv_l2_ops);
SELECT count(*) AS parts FROM lhv_snapshot WHERE index_oid = 'st_l2'::regclass;
ROLLBACK;
SELECT count(*) AS parts_after_rollback FROM lhv_snapshot;

-- CREATE INDEX writes one snapshot covering the empty log.
CREATE INDEX st_l2 ON st USING lhv (v lhv_l2_ops);
SELECT snapshot_no, part, parts, position, length(data) > 0 AS has_bytes
  FROM lhv_snapshot WHERE index_oid = 'st_l2'::regclass;
SELECT dimension, log_start, log_end, log_bytes, log_pages, free_pages, relation_pages
  FROM lhv_index_storage('st_l2');
-- The snapshot's log identity is the metapage's.
SELECT to_hex(s.log_id) = ltrim(m.log_id, '0') AS same_log
  FROM lhv_snapshot s, lhv_index_storage('st_l2') m WHERE s.index_oid = 'st_l2'::regclass;
SELECT lhv_snapshot_info(data)->'params' AS params
  FROM lhv_snapshot WHERE index_oid = 'st_l2'::regclass;

-- Each insert appends (TID, vector) to the log: 16 bytes of header + 3 floats.
INSERT INTO st SELECT i, ARRAY[i, 0, 1]::real[] FROM generate_series(301, 310) i;
SELECT log_end, log_bytes FROM lhv_index_storage('st_l2');
SELECT state, source, elements, deleted, applied_position, log_end, snapshot_position, log_since_snapshot
  FROM lhv_indexes WHERE index = 'st_l2'::regclass;

-- VACUUM logs the TIDs it removes (one entry) and asks for a snapshot.
DELETE FROM st WHERE id <= 20;
VACUUM st;
SELECT log_end FROM lhv_index_storage('st_l2');
SELECT deleted, snapshot_due FROM lhv_indexes WHERE index = 'st_l2'::regclass;

-- lhv_snapshot() writes a new snapshot at the log's end and deletes the old one.
SELECT lhv_snapshot('st_l2') > 0 AS written;
SELECT snapshot_no, position FROM lhv_snapshot WHERE index_oid = 'st_l2'::regclass;
SELECT snapshot_position, snapshot_due, log_since_snapshot FROM lhv_indexes WHERE index = 'st_l2'::regclass;

-- A rolled-back REINDEX keeps the old snapshot; a committed one replaces it
-- with a snapshot of a new log.
CREATE TEMP TABLE old_log AS SELECT log_id FROM lhv_index_storage('st_l2');
BEGIN;
REINDEX INDEX st_l2;
SELECT count(*) AS snapshots_of_old_log FROM lhv_snapshot s, lhv_index_storage('st_l2') m
  WHERE to_hex(s.log_id) = ltrim(m.log_id, '0');
ROLLBACK;
SELECT m.log_id = o.log_id AS same_log_after_rollback FROM lhv_index_storage('st_l2') m, old_log o;
SELECT snapshot_no, position FROM lhv_snapshot WHERE index_oid = 'st_l2'::regclass;
REINDEX INDEX st_l2;
SELECT m.log_id <> o.log_id AS new_log, m.log_end AS log_end_after_reindex
  FROM lhv_index_storage('st_l2') m, old_log o;
SELECT snapshot_no, position FROM lhv_snapshot WHERE index_oid = 'st_l2'::regclass;

-- TRUNCATE: a new, empty relfilenode; its empty build writes no snapshot.
TRUNCATE st;
SELECT count(*) AS parts_after_truncate FROM lhv_snapshot WHERE index_oid = 'st_l2'::regclass;
SELECT dimension, log_end FROM lhv_index_storage('st_l2');
INSERT INTO st VALUES (1, '{1,2,3}');
SELECT dimension, log_end FROM lhv_index_storage('st_l2');
SELECT lhv_snapshot('st_l2') > 0 AS written;
SELECT count(*) AS parts FROM lhv_snapshot WHERE index_oid = 'st_l2'::regclass;

-- DROP INDEX deletes its snapshot rows; a rolled-back DROP keeps them.
BEGIN;
DROP INDEX st_l2;
SELECT count(*) AS parts_in_drop FROM lhv_snapshot;
ROLLBACK;
SELECT count(*) AS parts_after_rolled_back_drop FROM lhv_snapshot;
DROP INDEX st_l2;
SELECT count(*) AS parts_after_drop FROM lhv_snapshot;

-- An empty index has no graph to save.
CREATE INDEX st_cos ON st USING lhv (v lhv_cosine_ops);
DELETE FROM st;
VACUUM st;
SELECT lhv_snapshot('st_cos') AS bytes_of_empty;

-- Errors.
\set VERBOSITY sqlstate
SELECT lhv_snapshot('st');
SELECT lhv_index_storage('st');
CREATE ROLE lhv_storage_other;
SET ROLE lhv_storage_other;
SELECT lhv_snapshot('st_cos');
SELECT count(*) FROM lhv_snapshot;
RESET ROLE;
DROP ROLE lhv_storage_other;
-- Not an lhv index.
SELECT lhv_index_storage('st_pkey');
\set VERBOSITY default
DROP TABLE st;
