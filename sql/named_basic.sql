-- named_basic.sql: named indexes through their functions: lhv_create,
-- lhv_info, lhv_list, lhv_add (one item, batches, upserts), lhv_search,
-- lhv_get, lhv_delete, lhv_drop; vectors as every array type drivers send;
-- the three distances against their operators; what is created underneath.

SELECT lhv_create('docs', 3);
SELECT name, dimension, distance, m, ef_search, ef_construction, count, owner, data_table
FROM lhv_info('docs');
-- Every parameter given, by name too.
SELECT lhv_create('places.eu-1', 2, 'euclidean', m => 8, ef_search => 50, ef_construction => 100);
SELECT lhv_create(name => 'scores_ip', dimension => 2, distance => 'inner_product');
SELECT name, dimension, distance, m, ef_search, ef_construction, count FROM lhv_list();

-- What a named index is: a table in lhv_data with an lhv index, owned by
-- its creator, and a catalog row.
SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, c.relkind
FROM pg_class c WHERE c.relnamespace = 'lhv_data'::regnamespace AND c.relkind = 'r' ORDER BY 1;
SELECT regexp_replace(indexdef, '#[0-9a-f]{32}', '#<md5>') AS indexdef
FROM pg_indexes WHERE schemaname = 'lhv_data' AND tablename = 'docs' ORDER BY 1;
SELECT name, dimension, distance FROM lhv_named_indexes ORDER BY name;

-- One item at a time: true when the id is new, false when it replaced one.
SELECT lhv_add('docs', 'a', '{1,0,0}');
SELECT lhv_add('docs', 'b', '{0,1,0}', '{"color": "red"}');
SELECT lhv_add('docs', 'c', '{0,0,1}', '{"color": "blue", "n": 3}');
SELECT * FROM lhv_get('docs', 'b');
SELECT * FROM lhv_get('docs', 'a');
SELECT * FROM lhv_get('docs', 'nope');

-- Upserts: a new vector; NULL metadata keeps the stored metadata, '{}'
-- replaces it, other metadata replaces it; JSON null is absent too.
SELECT lhv_add('docs', 'b', '{0,2,0}');
SELECT * FROM lhv_get('docs', 'b');
SELECT lhv_add('docs', 'b', '{0,1,0}', NULL);
SELECT * FROM lhv_get('docs', 'b');
SELECT lhv_add('docs', 'b', '{0,1,0}', 'null');
SELECT * FROM lhv_get('docs', 'b');
SELECT lhv_add('docs', 'b', '{0,1,0}', '{}');
SELECT * FROM lhv_get('docs', 'b');
SELECT lhv_add('docs', 'b', '{0,1,0}', '{"color": "green"}');
SELECT * FROM lhv_get('docs', 'b');
SELECT count FROM lhv_info('docs');

-- Every array type a driver sends, with no cast: real[], double precision[],
-- numeric[], smallint[], integer[], bigint[], and an array literal.
SELECT lhv_add('docs', 'r', ARRAY[1, 1, 0]::real[]);
SELECT lhv_add('docs', 'f8', ARRAY[1.5, 1, 0]::double precision[]);
SELECT lhv_add('docs', 'num', ARRAY[0.25, 1, 0]);
SELECT lhv_add('docs', 'i2', ARRAY[2, 1, 0]::smallint[]);
SELECT lhv_add('docs', 'i4', ARRAY[3, 1, 0]);
SELECT lhv_add('docs', 'i8', ARRAY[4, 1, 0]::bigint[]);
SELECT pg_typeof(ARRAY[0.25, 1, 0]) AS numeric_literal, pg_typeof(ARRAY[3, 1, 0]) AS integer_literal;
SELECT id, vector FROM lhv_data.docs d, lhv_get('docs', d.id) ORDER BY id;
-- Values are read as real: the nearest real to each number.
SELECT lhv_add('docs', 'precise', ARRAY[0.1, 0.2, 0.3]::numeric[]);
SELECT vector = '{0.1,0.2,0.3}'::real[] AS same_as_real_input FROM lhv_get('docs', 'precise');
-- numeric and double precision components round as the cast to real does
-- (numerics are read from their stored digits), over many magnitudes.
SELECT setseed(0.25);
SELECT count(*) FILTER (WHERE v[1] IS DISTINCT FROM x::real) AS numeric_mismatches,
       count(*) FILTER (WHERE w[1] IS DISTINCT FROM x::float8::real) AS float8_mismatches
FROM (SELECT x, lhv_named_vector(ARRAY[x], 1, false, 'v') AS v,
             lhv_named_vector(ARRAY[x::float8], 1, false, 'v') AS w
      FROM (SELECT (random() * 10 ^ (floor(random() * 60) - 30))::numeric
                   * (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END) AS x
            FROM generate_series(1, 20000)
            UNION ALL SELECT round((random() * 1000)::numeric, (random() * 8)::int) FROM generate_series(1, 5000)
            UNION ALL SELECT i::numeric FROM generate_series(-3000, 3000) i
            UNION ALL SELECT x FROM (VALUES (0.1), (1e-38), (1.17549435e-38), (3.4028234e38), (-0.0),
                                            (123456789012345678901234567890.123456789012345678901234567890123456789),
                                            (1.401298464324817e-45)) v(x)) s) t;
SELECT lhv_add('docs', 'precise8', ARRAY[0.1, 0.2, 0.3]::float8[]);
SELECT vector = '{0.1,0.2,0.3}'::real[] AS same_as_real_input FROM lhv_get('docs', 'precise8');

-- Batches: one JSON array; returns the number of ids stored.
SELECT lhv_add('docs', '[
  {"id": "d", "vector": [1, 2, 3], "metadata": {"k": "d"}},
  {"id": "e", "vector": [3, 2, 1]},
  {"id": "a", "vector": [1, 0.5, 0], "metadata": {"k": "a"}}
]');
SELECT * FROM lhv_get('docs', 'a');
SELECT * FROM lhv_get('docs', 'e');
-- In a batch, absent or null metadata keeps what is stored and {} replaces.
SELECT lhv_add('docs', '[{"id": "a", "vector": [1, 0, 0]}, {"id": "d", "vector": [1, 2, 3], "metadata": null},
                         {"id": "c", "vector": [0, 0, 1], "metadata": {}}]');
SELECT d.id, g.vector, g.metadata FROM lhv_data.docs d, lhv_get('docs', d.id) g WHERE d.id IN ('a', 'c', 'd') ORDER BY d.id;
-- An id twice in one batch: as if added one after the other (last vector,
-- last metadata given).
SELECT lhv_add('docs', '[{"id": "t", "vector": [1, 1, 1], "metadata": {"v": 1}},
                         {"id": "t", "vector": [2, 2, 2]},
                         {"id": "t", "vector": [3, 3, 3], "metadata": {"v": 3}},
                         {"id": "t", "vector": [4, 4, 4]}]');
SELECT * FROM lhv_get('docs', 't');
-- Empty batch; extra keys in an item are ignored.
SELECT lhv_add('docs', '[]');
SELECT lhv_add('docs', '[{"id": "x", "vector": [1, 1, 2], "extra": true}]');
SELECT count FROM lhv_info('docs');

-- Search: nearest first, (id, distance, metadata), distance as the
-- operator computes it.
SELECT * FROM lhv_search('docs', '{1,0,0}', 3);
SELECT id, round(distance::numeric, 6) AS distance FROM lhv_search('docs', ARRAY[0, 0, 1], 2);
-- k defaults to 10; every query type works.
SELECT count(*) FROM lhv_search('docs', '{1,1,1}');
SELECT count(*) FROM lhv_search('docs', ARRAY[1, 1, 1]::real[], 5);
SELECT count(*) FROM lhv_search('docs', ARRAY[1, 1, 1]::float8[], 5);
SELECT count(*) FROM lhv_search('docs', ARRAY[1.0, 1, 1], 5);
SELECT count(*) FROM lhv_search('docs', ARRAY[1, 1, 1]::smallint[], 5);
SELECT count(*) FROM lhv_search('docs', ARRAY[1, 1, 1], 5);
SELECT count(*) FROM lhv_search('docs', ARRAY[1, 1, 1]::bigint[], 5);
-- More than the index holds: all of it. An ef_search override.
SELECT count(*) FROM lhv_search('docs', '{1,1,1}', 1000);
SELECT count(*) FROM lhv_search('docs', '{1,1,1}', 3, 200);
SELECT count(*) FROM lhv_search('docs', '{1,1,1}', k => 4, ef_search => 1);
-- A stored vector is found at distance 0 (i4's direction is its own; the
-- 'precise' vectors and d share one, so any of them is at distance 0 there).
SELECT id, distance FROM lhv_search('docs', (SELECT vector FROM lhv_get('docs', 'i4')), 1);
SELECT id IN ('precise', 'precise8', 'd') AS same_direction, distance < 1e-12 AS at_zero
FROM lhv_search('docs', (SELECT vector FROM lhv_get('docs', 'precise')), 1);
-- lhv_search leaves lhv.ef_search as it was, in a transaction too.
BEGIN;
SET LOCAL lhv.ef_search = 33;
SELECT count(*) FROM lhv_search('docs', '{1,1,1}', 3, 500);
SHOW lhv.ef_search;
COMMIT;
SHOW lhv.ef_search;

-- Each distance is its operator's: cosine 1 - cos (<=>), euclidean the L2
-- norm, not squared (<->), inner product -a.b (<#>).
SELECT lhv_add('places.eu-1', '[{"id": "o", "vector": [0, 0]}, {"id": "p", "vector": [3, 4]},
                                {"id": "q", "vector": [-1, 0]}]');
SELECT * FROM lhv_search('places.eu-1', '{0,0}', 3);
SELECT lhv_l2_distance('{0,0}', '{3,4}') AS l2_norm;
SELECT lhv_add('scores_ip', '[{"id": "small", "vector": [1, 0]}, {"id": "big", "vector": [10, 0]},
                              {"id": "opposite", "vector": [-5, 0]}]');
SELECT * FROM lhv_search('scores_ip', '{1,0}', 3);
SELECT s.id, s.distance = '{1,0,0}'::real[] <=> g.vector AS same_as_operator
FROM lhv_search('docs', '{1,0,0}', 3) s, lhv_get('docs', s.id) g;
SELECT s.id, s.distance = '{0,0}'::real[] <-> g.vector AS same_as_operator
FROM lhv_search('places.eu-1', '{0,0}', 3) s, lhv_get('places.eu-1', s.id) g;
SELECT s.id, s.distance = '{1,0}'::real[] <#> g.vector AS same_as_operator
FROM lhv_search('scores_ip', '{1,0}', 3) s, lhv_get('scores_ip', s.id) g;

-- Delete: true if it was there.
SELECT lhv_delete('docs', 'e');
SELECT lhv_delete('docs', 'e');
SELECT * FROM lhv_get('docs', 'e');
SELECT count(*) FROM lhv_search('docs', '{3,2,1}', 100) WHERE id = 'e';
-- A deleted id can come back.
SELECT lhv_add('docs', 'e', '{3,2,1}');
SELECT id FROM lhv_search('docs', '{3,2,1}', 1);

-- Ids are any non-empty text, names any of letters, digits, _ - . (up to
-- 63 characters, case-sensitive).
SELECT lhv_add('docs', 'ünïcode id with spaces / and "quotes"', '{5,5,5}');
SELECT id FROM lhv_search('docs', '{5,5,5}', 1);
SELECT lhv_create('Docs', 3);
SELECT lhv_create(repeat('n', 63), 1);
SELECT lhv_create('a_pkey', 1);
SELECT name FROM lhv_list() ORDER BY name COLLATE "C";

-- Vectors and queries as lhvector values, or as text in pgvector's format
-- ('[1,2,3]', which lhvector reads) as well as array literals ('{1,2,3}').
SELECT lhv_add('docs', 'typed', '[0.3,7,0.1]'::lhvector);
SELECT lhv_add('docs', 'bracketed', E' \n[9, 0.2, 5]', '{"f": "brackets"}');
SELECT id, distance, metadata FROM lhv_search('docs', '[0.3,7,0.1]'::lhvector, 1);
SELECT id, distance, metadata FROM lhv_search('docs', '  [9,0.2,5]', 1);
SELECT id FROM lhv_search('docs', '{9,0.2,5}', 1) ORDER BY id;
SELECT vector FROM lhv_get('docs', 'bracketed');
SELECT lhv_delete('docs', 'typed'), lhv_delete('docs', 'bracketed');
\set VERBOSITY terse
SELECT lhv_add('docs', 'bad', '[1,2]'::lhvector);
SELECT lhv_add('docs', 'bad', '[1,a,2]');
SELECT lhv_search('docs', '[1,2,3', 1);
\set VERBOSITY default
SELECT count(*) FROM lhv_data.docs WHERE id = 'bad';

-- The embedding column is never compressed: PLAIN (in the heap row) up to
-- 1,900 dimensions, EXTERNAL above. A 1,900-d row with a long id and large
-- metadata still fits a page: those move to TOAST.
SELECT lhv_create('plain_1900', 1900), lhv_create('external_1901', 1901);
SELECT c.relname, a.attstorage FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'lhv_data'::regnamespace AND a.attname = 'embedding'
  AND c.relname IN ('docs', 'plain_1900', 'external_1901') ORDER BY c.relname;
SELECT lhv_add('plain_1900', repeat('long id ', 500),
               array_fill(0.5::real, ARRAY[1900]),
               (SELECT jsonb_object_agg('key' || i, md5(i::text) || md5((i + 1)::text) || md5((i + 2)::text))
                FROM generate_series(1, 200) i));
SELECT lhv_add('external_1901', 'one', array_fill(0.5::real, ARRAY[1901]));
SELECT length(s.id) AS id_length, s.distance, length(s.metadata::text) AS metadata_length
FROM lhv_search('plain_1900', array_fill(0.5::real, ARRAY[1900]), 1) s;
SELECT id, distance FROM lhv_search('external_1901', array_fill(0.5::real, ARRAY[1901]), 1);
SELECT lhv_drop('plain_1900'), lhv_drop('external_1901');

-- Drop: the table and the catalog row go; the name is free again.
SELECT lhv_drop('Docs');
SELECT lhv_drop(repeat('n', 63));
SELECT lhv_drop('a_pkey');
SELECT lhv_drop('places.eu-1');
SELECT lhv_drop('scores_ip');
SELECT name FROM lhv_list();
-- Re-created with another dimension, it is searched as the new table (the
-- search prepared for the old one is re-planned).
SELECT lhv_create('scores_ip', 4, 'inner_product');
SELECT dimension FROM lhv_info('scores_ip');
SELECT lhv_add('scores_ip', 'four', '{1,2,3,4}');
SELECT id, distance FROM lhv_search('scores_ip', '{1,0,0,0}', 3);
SELECT lhv_drop('scores_ip');
-- Dropping the table directly removes the catalog row too.
SELECT lhv_create('direct', 2);
DROP TABLE lhv_data.direct;
SELECT count(*) FROM lhv_named_indexes WHERE name = 'direct';
-- A rolled-back drop keeps everything.
BEGIN;
SELECT lhv_drop('docs');
ROLLBACK;
SELECT count FROM lhv_info('docs');
SELECT lhv_drop('docs');
SELECT count(*) AS catalog_rows FROM lhv_named_indexes;
SELECT count(*) AS data_tables FROM pg_class WHERE relnamespace = 'lhv_data'::regnamespace;
