-- named_export.sql: lhv_export and lhv_import. An export holds what the
-- caller sees (LHV1: magic, envelope, hnswlib graph bytes); an import makes a
-- named index from it without rebuilding the graph, and answers exactly as
-- the exported index did (ids, order, distances; lhv_get); every malformed
-- input is a class 22 error that creates nothing.
CREATE FUNCTION pg_temp.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;

-- The JSON envelope of LHV1 bytes, and the same bytes with another envelope.
CREATE FUNCTION pg_temp.envelope(b bytea) RETURNS jsonb LANGUAGE sql AS $$
    SELECT convert_from(substring(b FROM 9 FOR (get_byte(b, 4) << 24) | (get_byte(b, 5) << 16)
                                              | (get_byte(b, 6) << 8) | get_byte(b, 7)), 'UTF8')::jsonb
$$;
CREATE FUNCTION pg_temp.graph_bytes(b bytea) RETURNS bytea LANGUAGE sql AS $$
    SELECT substring(b FROM 9 + ((get_byte(b, 4) << 24) | (get_byte(b, 5) << 16)
                                 | (get_byte(b, 6) << 8) | get_byte(b, 7)))
$$;
CREATE FUNCTION pg_temp.with_envelope(b bytea, envelope jsonb) RETURNS bytea LANGUAGE sql AS $$
    SELECT 'LHV1'::bytea || int4send(octet_length(convert_to(envelope::text, 'UTF8')))
           || convert_to(envelope::text, 'UTF8') || pg_temp.graph_bytes(b)
$$;
-- A u64 of the graph bytes' header (little-endian), e.g. 16: the element count.
CREATE FUNCTION pg_temp.graph_u64(b bytea, field int) RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(get_byte(pg_temp.graph_bytes(b), field + i)::bigint << (8 * i))::bigint
    FROM generate_series(0, 7) i
$$;

-- Three indexes, one per distance: 300 items of 8 dimensions, metadata of
-- several kinds, some items deleted (VACUUMed or not), one updated in place.
SELECT lhv_create('ex_l2', 8, 'euclidean', m => 8, ef_search => 30, ef_construction => 40);
SELECT lhv_create('ex_ip', 8, 'inner_product');
SELECT lhv_create('ex_cos', 8, 'cosine', m => 12);
SELECT n, lhv_add(n, jsonb_agg(jsonb_build_object(
           'id', 'item-' || i,
           'vector', (SELECT jsonb_agg(round((sin(i * 0.37 + j * 1.3) * 10)::numeric, 3) + (i % 7))
                      FROM generate_series(1, 8) j),
           'metadata', CASE i % 4 WHEN 0 THEN jsonb_build_object('i', i, 'tags', jsonb_build_array('a', i))
                                  WHEN 1 THEN jsonb_build_object('name', 'é ' || i)
                                  WHEN 2 THEN '{}'::jsonb END)))
FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n, generate_series(1, 300) i
GROUP BY n ORDER BY n;
SELECT lhv_add(n, 'odd id: "quoted" \ and ünïcode', '{1,2,3,4,5,6,7,8}', '[1, "x", null]')
FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n;
SELECT count(*) FILTER (WHERE lhv_delete(n, 'item-' || i)) AS deleted
FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n, generate_series(10, 300, 10) i;
VACUUM lhv_data.ex_l2, lhv_data.ex_ip, lhv_data.ex_cos;
SELECT count(*) FILTER (WHERE lhv_delete(n, 'item-' || i)) AS deleted_not_vacuumed
FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n, generate_series(15, 300, 30) i;
-- A metadata-only update with the same vector: a HOT update, so the graph's
-- label is the row's first TID, not its ctid. The export must follow it.
CREATE FUNCTION pg_temp.graph_elements(table_name regclass) RETURNS bigint LANGUAGE sql AS $$
    SELECT s.elements FROM lhv_indexes s JOIN pg_index i ON i.indexrelid = s.index WHERE i.indrelid = table_name
$$;
CREATE TEMP TABLE before_hot AS
SELECT (SELECT ctid FROM lhv_data.ex_l2 WHERE id = 'item-299') AS row_tid,
       pg_temp.graph_elements('lhv_data.ex_l2') AS elements;
SELECT lhv_add('ex_l2', 'item-299', (SELECT embedding FROM lhv_data.ex_l2 WHERE id = 'item-299'), '{"hot": true}');
SELECT (SELECT ctid FROM lhv_data.ex_l2 WHERE id = 'item-299') <> row_tid AS row_moved,
       pg_temp.graph_elements('lhv_data.ex_l2') = elements AS no_new_element
FROM before_hot;
SELECT s.id, s.metadata FROM lhv_search('ex_l2', (SELECT embedding FROM lhv_data.ex_l2 WHERE id = 'item-299'), 1) s;

-- What an export holds: the params (hnswlib's space names), one label per
-- visible row (labels are element ids), the metadata of the rows that have
-- some, and graph bytes whose element count includes the deleted elements.
CREATE TEMP TABLE exports AS SELECT n, lhv_export(n) AS b FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n;
GRANT SELECT ON exports TO PUBLIC;
SELECT n, substring(b FROM 1 FOR 4) AS magic, pg_temp.envelope(b)->'version' AS version,
       pg_temp.envelope(b)->'params' AS params
FROM exports ORDER BY n;
SELECT e.n,
       (SELECT count(*) FROM jsonb_object_keys(pg_temp.envelope(b)->'labels')) AS labels,
       (SELECT count(*) FROM lhv_data.ex_l2) AS rows,
       (SELECT array_agg(v ORDER BY v) FROM jsonb_each_text(pg_temp.envelope(b)->'labels') l(k, v))
         = (SELECT array_agg(id ORDER BY id) FROM lhv_data.ex_l2) AS labels_name_every_id,
       (SELECT max(k::int) FROM jsonb_object_keys(pg_temp.envelope(b)->'labels') k) < pg_temp.graph_u64(b, 16)
         AS labels_are_element_ids,
       pg_temp.graph_u64(b, 16) AS graph_elements,
       pg_temp.envelope(b)->'metadata' = (SELECT jsonb_object_agg(id, metadata) FROM lhv_data.ex_l2
                                          WHERE metadata IS NOT NULL) AS metadata_as_stored
FROM exports e WHERE n = 'ex_l2';
-- Under cosine the graph holds unit vectors; "vectors" keeps the stored ones.
SELECT n, (SELECT count(*) FROM jsonb_object_keys(pg_temp.envelope(b)->'vectors')) AS vectors
FROM exports ORDER BY n;

-- Round trip: answers and items before, export, drop, import, answers after.
CREATE TEMP TABLE queries AS
SELECT q, ARRAY(SELECT (cos(q * 0.91 + j) * 9 + 3)::real FROM generate_series(1, 8) j) AS v
FROM generate_series(1, 40) q;
CREATE FUNCTION pg_temp.answers(index_name text) RETURNS TABLE(q int, rank bigint, id text, distance float8, metadata jsonb)
LANGUAGE sql AS $$
    SELECT q.q, s.rank, s.id, s.distance, s.metadata
    FROM queries q, lhv_search(index_name, q.v, 15) WITH ORDINALITY s(id, distance, metadata, rank)
$$;
CREATE FUNCTION pg_temp.items(index_name text) RETURNS TABLE(id text, vector text, metadata jsonb)
LANGUAGE sql AS $$
    SELECT i.id, g.vector::text, g.metadata
    FROM lhv_data.ex_l2 i, lhv_get(index_name, i.id) g
$$;
CREATE TEMP TABLE before AS
SELECT n, a.* FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n, pg_temp.answers(n) a;
CREATE TEMP TABLE items_before AS
SELECT n, i.* FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n, pg_temp.items(n) i;
CREATE TEMP TABLE info_before AS SELECT i.* FROM lhv_list() i;
SELECT lhv_drop(n) FROM exports ORDER BY n;
SELECT n, lhv_import(n, b) AS imported FROM exports ORDER BY n;
CREATE TEMP TABLE after AS
SELECT n, a.* FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n, pg_temp.answers(n) a;
CREATE TEMP TABLE items_after AS
SELECT n, i.* FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n, pg_temp.items(n) i;
SELECT n, count(*) AS answers,
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT FROM after a WHERE (a.n, a.q, a.rank, a.id, a.distance) = (b.n, b.q, b.rank, b.id, b.distance)
                                     AND a.metadata IS NOT DISTINCT FROM b.metadata)) AS differing,
       (SELECT count(*) FROM after a WHERE a.n = b.n) AS answers_after
FROM before b GROUP BY n ORDER BY n;
SELECT n, count(*) AS items,
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT FROM items_after i WHERE (i.n, i.id, i.vector) = (b.n, b.id, b.vector)
                                           AND i.metadata IS NOT DISTINCT FROM b.metadata)) AS differing,
       (SELECT count(*) FROM items_after i WHERE i.n = b.n) AS items_after
FROM items_before b GROUP BY n ORDER BY n;
SELECT name, dimension, distance, m, ef_search, ef_construction, count, owner
FROM lhv_list() EXCEPT SELECT name, dimension, distance, m, ef_search, ef_construction, count, owner FROM info_before;
-- The graph was taken over, not rebuilt: its deleted elements are still
-- there (a build from the table would have none).
SELECT c.relname AS table_name, s.source, s.elements, s.deleted
FROM lhv_indexes s JOIN pg_index i ON i.indexrelid = s.index JOIN pg_class c ON c.oid = i.indrelid
WHERE c.relnamespace = 'lhv_data'::regnamespace ORDER BY 1;
-- The imported index goes on like any other.
SELECT lhv_add('ex_l2', 'new', '{0,0,0,0,0,0,0,1}');
SELECT lhv_delete('ex_l2', 'item-1');
SELECT id, distance FROM lhv_search('ex_l2', '{0,0,0,0,0,0,0,1}', 1);
-- And exports again exactly what it holds.
SELECT lhv_import('ex_l2_again', lhv_export('ex_l2'));
SELECT (SELECT count(*) FROM lhv_data.ex_l2_again) AS rows,
       (SELECT count(*) FROM (SELECT * FROM lhv_data.ex_l2 EXCEPT SELECT * FROM lhv_data.ex_l2_again) d) AS differing;
SELECT lhv_drop('ex_l2_again');

-- An export is what the caller sees, in its transaction.
BEGIN;
SELECT lhv_add('ex_ip', 'uncommitted', '{1,1,1,1,1,1,1,1}');
SELECT lhv_delete('ex_ip', 'item-2');
SELECT EXISTS (SELECT FROM jsonb_each_text(pg_temp.envelope(lhv_export('ex_ip'))->'labels') l(k, v)
                   WHERE v = 'uncommitted') AS sees_own_add,
       NOT EXISTS (SELECT FROM jsonb_each_text(pg_temp.envelope(lhv_export('ex_ip'))->'labels') l(k, v)
                   WHERE v = 'item-2') AS sees_own_delete;
ROLLBACK;
SELECT EXISTS (SELECT FROM jsonb_each_text(pg_temp.envelope(lhv_export('ex_ip'))->'labels') l(k, v)
               WHERE v IN ('uncommitted')) AS rolled_back_add,
       EXISTS (SELECT FROM jsonb_each_text(pg_temp.envelope(lhv_export('ex_ip'))->'labels') l(k, v)
               WHERE v = 'item-2') AS rolled_back_delete;

-- An index saved by hnswlib: an envelope with params only, so the ids are
-- the graph labels in decimal and there is no metadata.
SELECT lhv_import('from_hnswlib', pg_temp.with_envelope(b, jsonb_build_object('version', 1,
           'params', pg_temp.envelope(b)->'params')))
FROM exports WHERE n = 'ex_ip';
SELECT count(*) AS rows, count(*) FILTER (WHERE id ~ '^[0-9]+$') AS decimal_ids,
       count(metadata) AS with_metadata FROM lhv_data.from_hnswlib;
SELECT lhv_drop('from_hnswlib');

-- An empty index exports and imports; the import takes adds.
SELECT lhv_create('ex_empty', 3, 'euclidean');
SELECT pg_temp.envelope(lhv_export('ex_empty')) - 'params' AS envelope, pg_temp.graph_u64(lhv_export('ex_empty'), 16) AS elements;
SELECT lhv_import('ex_empty2', lhv_export('ex_empty'));
SELECT lhv_add('ex_empty2', 'a', '{1,2,3}');
SELECT id, distance FROM lhv_search('ex_empty2', '{1,2,3}', 1);
SELECT name, dimension, distance, count FROM lhv_info('ex_empty2');
SELECT lhv_drop('ex_empty'), lhv_drop('ex_empty2');

-- Errors of lhv_export: 22004, 42704.
SELECT pg_temp.try($$SELECT lhv_export(NULL)$$);
SELECT pg_temp.try($$SELECT lhv_export('nope')$$);

-- Errors of lhv_import, each a class 22 error (or 22004, 42710) that
-- creates nothing: the catalog, lhv_data and the graphs are as they were.
CREATE TEMP TABLE state_before AS
SELECT (SELECT count(*) FROM lhv_named_indexes) AS catalog,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'lhv_data'::regnamespace) AS relations,
       (SELECT count(*) FROM lhv_indexes) AS graphs;
CREATE TEMP TABLE good AS SELECT b, pg_temp.envelope(b) AS e FROM exports WHERE n = 'ex_l2';
SELECT pg_temp.try($$SELECT lhv_import(NULL, (SELECT b FROM good))$$);
SELECT pg_temp.try($$SELECT lhv_import('x', NULL)$$);
SELECT pg_temp.try($$SELECT lhv_import('bad name!', (SELECT b FROM good))$$);
SELECT pg_temp.try($$SELECT lhv_import('ex_l2', (SELECT b FROM good))$$);
SELECT pg_temp.try($$SELECT lhv_import('x', '')$$);
SELECT pg_temp.try($$SELECT lhv_import('x', 'LHV2'::bytea || substring((SELECT b FROM good) FROM 5))$$);
SELECT pg_temp.try($$SELECT lhv_import('x', substring((SELECT b FROM good) FROM 1 FOR 6))$$);
SELECT pg_temp.try($$SELECT lhv_import('x', 'LHV1'::bytea || int4send(100000000) || '{}'::bytea)$$);
SELECT pg_temp.try($$SELECT lhv_import('x', 'LHV1'::bytea || int4send(5) || '{"a":'::bytea)$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, e || '{"version": 2}')) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{params,distance}', '"hamming"'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{params,distance}', '"euclidean"'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{params,dimension}', '9'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{params,m}', '16'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{params,ef_search}', '5000'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, e #- '{params,m}')) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', substring(b FROM 1 FOR octet_length(b) - 1)) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', b || '\x00'::bytea) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{labels,0}',
    (SELECT v FROM jsonb_each(e->'labels') l(k, v) WHERE k <> '0' ORDER BY k LIMIT 1)))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, e #- '{labels,0}')) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{labels,1000000}', '"z"'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{labels,0}', '""'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{labels,0}', '7'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{labels}', '[]'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(e, '{metadata,nobody}', '1'))) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, e || '{"vectors": {"0": "AAAA"}}')) FROM good$$);
SELECT pg_temp.try($$SELECT lhv_import('x', pg_temp.with_envelope(b, jsonb_set(pg_temp.envelope(b),
    ARRAY['vectors', (SELECT min(k) FROM jsonb_object_keys(pg_temp.envelope(b)->'labels') k)],
    '"AACAPwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="'))) FROM exports WHERE n = 'ex_cos'$$);
-- Metadata that jsonb refuses (\u0000) fails while the rows go in: 22P05.
SELECT pg_temp.try($$SELECT lhv_import('x', 'LHV1'::bytea || int4send(octet_length(t)) || convert_to(t, 'UTF8')
                                              || pg_temp.graph_bytes(b))
                     FROM good, replace(e::text, '"metadata": {', '"metadata": {"item-3": "a\u0000b", ') t$$);
-- A rolled-back import leaves nothing either, and the name can be used again.
BEGIN;
SELECT lhv_import('x', b) FROM good;
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT lhv_import('x', b) FROM good;
ROLLBACK TO SAVEPOINT s;
SELECT lhv_import('x', b) FROM good;
SELECT count(*) FROM lhv_search('x', '{1,2,3,4,5,6,7,8}', 5);
ROLLBACK;
SELECT (SELECT count(*) FROM lhv_named_indexes) AS catalog,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'lhv_data'::regnamespace) AS relations,
       (SELECT count(*) FROM lhv_indexes) AS graphs
FROM state_before EXCEPT SELECT * FROM state_before;
SELECT count(*) AS ex_l2_rows FROM lhv_data.ex_l2;

-- Ownership: an ordinary role imports (the index is its own) and exports
-- its own; another role needs SELECT on the table; row-level security is
-- refused rather than half applied.
CREATE ROLE regress_lhv_exporter;
CREATE ROLE regress_lhv_reader;
SET ROLE regress_lhv_exporter;
SELECT lhv_import('exporters', b) FROM exports WHERE n = 'ex_cos';
SELECT name, owner, count FROM lhv_info('exporters');
-- Its export is the one it came from, but for the name: the same labels,
-- metadata and vectors, and the same graph bytes.
SELECT pg_temp.envelope(lhv_export('exporters')) #- '{params,name}' = pg_temp.envelope(b) #- '{params,name}'
         AS same_envelope,
       pg_temp.graph_bytes(lhv_export('exporters')) = pg_temp.graph_bytes(b) AS same_graph_bytes
FROM exports WHERE n = 'ex_cos';
SET ROLE regress_lhv_reader;
SELECT pg_temp.try($$SELECT lhv_export('exporters')$$);
SET ROLE regress_lhv_exporter;
GRANT SELECT ON lhv_data.exporters TO regress_lhv_reader;
SET ROLE regress_lhv_reader;
SELECT (SELECT count(*) FROM jsonb_object_keys(pg_temp.envelope(lhv_export('exporters'))->'labels')) AS labels;
SET ROLE regress_lhv_exporter;
ALTER TABLE lhv_data.exporters ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_some ON lhv_data.exporters FOR SELECT USING (id LIKE 'item-1%');
SET ROLE regress_lhv_reader;
SELECT pg_temp.try($$SELECT lhv_export('exporters')$$);
SET ROLE regress_lhv_exporter;
SELECT (SELECT count(*) FROM jsonb_object_keys(pg_temp.envelope(lhv_export('exporters'))->'labels')) AS owner_labels;
SELECT lhv_drop('exporters');
RESET ROLE;
DROP ROLE regress_lhv_exporter, regress_lhv_reader;

SELECT lhv_drop(n) FROM unnest(ARRAY['ex_l2', 'ex_ip', 'ex_cos']) n;
