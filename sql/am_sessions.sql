-- am_sessions.sql: one graph per index for the whole cluster. Another
-- session uses the graph an earlier one built; temporary tables and DROP
-- DATABASE give their graphs back.

SELECT current_database() AS regress_db \gset
SELECT indexes FROM lhv_memory;
CREATE TABLE sess_items (id int, v real[]);
INSERT INTO sess_items SELECT i, ARRAY[i, i % 7]::real[] FROM generate_series(1, 1000) i;
CREATE INDEX sess_l2 ON sess_items USING lhv (v lhv_l2_ops);
SELECT indexes, graph_bytes > 0 AS has_graph FROM lhv_memory;

-- A new session finds the same graph: same answers, still one graph, and
-- rows it inserts are seen by the next session.
\c :regress_db
SET enable_seqscan = off;
SELECT id FROM sess_items ORDER BY v <-> '{500.2,3}' LIMIT 3;
SELECT indexes FROM lhv_memory;
INSERT INTO sess_items VALUES (5000, '{5000,0}');
\c :regress_db
SET enable_seqscan = off;
SELECT id FROM sess_items ORDER BY v <-> '{4999,0}' LIMIT 1;
SELECT indexes FROM lhv_memory;
DROP TABLE sess_items;
SELECT indexes FROM lhv_memory;

-- Temporary tables: their indexes' graphs go with them.
CREATE TEMP TABLE sess_temp (v real[]);
INSERT INTO sess_temp VALUES ('{1,1}'), ('{2,2}');
CREATE INDEX ON sess_temp USING lhv (v lhv_cosine_ops);
SELECT indexes FROM lhv_memory;
DISCARD TEMP;
SELECT indexes FROM lhv_memory;

-- DROP DATABASE frees the graphs of that database's indexes.
CREATE DATABASE lhv_regress_other;
\c lhv_regress_other
CREATE EXTENSION lhv;
CREATE TABLE other_items (v real[]);
INSERT INTO other_items VALUES ('{1,2}'), ('{3,4}');
CREATE INDEX ON other_items USING lhv (v lhv_l2_ops);
CREATE INDEX ON other_items USING lhv (v lhv_ip_ops);
SELECT indexes FROM lhv_memory;
\c :regress_db
SELECT indexes FROM lhv_memory;
DROP DATABASE lhv_regress_other WITH (FORCE);
SELECT indexes, graph_bytes FROM lhv_memory;
