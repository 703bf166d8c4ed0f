-- named_errors.sql: every error of the named-index functions, with its
-- SQLSTATE, and that a failing call stores nothing. try() runs a statement
-- and shows 'ok' or SQLSTATE: message.
CREATE FUNCTION pg_temp.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT lhv_create('err', 3);
SELECT lhv_create('err_l2', 2, 'euclidean');
SELECT lhv_add('err', 'keep', '{1,2,3}', '{"kept": true}');

-- Duplicate name: 42710, and the first index is untouched.
SELECT pg_temp.try($$SELECT lhv_create('err', 3)$$);
SELECT pg_temp.try($$SELECT lhv_create('err', 5, 'euclidean')$$);
SELECT dimension, distance, count FROM lhv_info('err');

-- Unknown name, in every function: 42704.
SELECT pg_temp.try($$SELECT * FROM lhv_info('nope')$$);
SELECT pg_temp.try($$SELECT lhv_add('nope', 'a', '{1,2,3}')$$);
SELECT pg_temp.try($$SELECT lhv_add('nope', 'a', ARRAY[1,2,3])$$);
SELECT pg_temp.try($$SELECT lhv_add('nope', '[]')$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('nope', '{1,2,3}')$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('nope', ARRAY[1,2,3], 5)$$);
SELECT pg_temp.try($$SELECT * FROM lhv_get('nope', 'a')$$);
SELECT pg_temp.try($$SELECT lhv_delete('nope', 'a')$$);
SELECT pg_temp.try($$SELECT lhv_drop('nope')$$);
-- Names are case-sensitive.
SELECT pg_temp.try($$SELECT * FROM lhv_info('ERR')$$);
-- A NULL name: 22004.
SELECT pg_temp.try($$SELECT * FROM lhv_info(NULL)$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search(NULL, '{1,2,3}')$$);
SELECT pg_temp.try($$SELECT lhv_drop(NULL)$$);

-- Bad parameters: 22023 (NULLs 22004), and nothing is created.
SELECT pg_temp.try($$SELECT lhv_create('p', 0)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', -1)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 16001)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, 'manhattan')$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, 'Cosine')$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, 'l2')$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, m => 1)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, m => 101)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, ef_search => 0)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, ef_search => 1001)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, ef_construction => 3)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, ef_construction => 1001)$$);
SELECT pg_temp.try($$SELECT lhv_create('', 3)$$);
SELECT pg_temp.try($$SELECT lhv_create(repeat('n', 64), 3)$$);
SELECT pg_temp.try($$SELECT lhv_create('a b', 3)$$);
SELECT pg_temp.try($$SELECT lhv_create('a/b', 3)$$);
SELECT pg_temp.try($$SELECT lhv_create('a"b', 3)$$);
SELECT pg_temp.try($$SELECT lhv_create('näme', 3)$$);
SELECT pg_temp.try($$SELECT lhv_create('x; DROP TABLE y', 3)$$);
SELECT pg_temp.try($$SELECT lhv_create(NULL, 3)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', NULL)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, NULL)$$);
SELECT pg_temp.try($$SELECT lhv_create('p', 3, m => NULL)$$);
-- The bounds themselves are accepted.
SELECT lhv_create('bounds1', 1, 'euclidean', 2, 1, 4);
SELECT lhv_create('bounds2', 16000, 'inner_product', 100, 1000, 1000);
SELECT name, dimension, distance, m, ef_search, ef_construction FROM lhv_list() WHERE name LIKE 'bounds%';
SELECT lhv_drop('bounds1'), lhv_drop('bounds2');
SELECT count(*) AS created_by_failures FROM lhv_named_indexes WHERE name NOT IN ('err', 'err_l2');
SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'lhv_data'::regnamespace AND relkind = 'r';

-- k and the ef_search override: 22023.
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', '{1,2,3}', 0)$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', '{1,2,3}', -5)$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', '{1,2,3}', NULL)$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', '{1,2,3}', 5, 0)$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', '{1,2,3}', 5, 1001)$$);
-- k past ef_search's maximum is fine.
SELECT count(*) FROM lhv_search('err', '{1,2,3}', 5000);

-- Bad vectors: 22000 (wrong dimension, NaN, infinity, out of real's range,
-- zero under cosine), 22004 (NULL), 42804 (not numbers), 22P02 (bad literal).
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', '{1,2}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', '{1,2,3,4}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', '{}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', '{{1,2,3},{4,5,6}}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', '{1,NaN,3}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', '{1,Infinity,3}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', ARRAY[1, '-Infinity', 3]::float8[])$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', ARRAY[1, 1e300, 3]::float8[])$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', ARRAY[1, 'NaN', 3]::numeric[])$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', ARRAY[1, 1e39, 3]::numeric[])$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', '{0,0,0}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', ARRAY[0, 0, 0])$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', NULL::real[])$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', NULL)$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', '{1,NULL,3}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', ARRAY['1', '2', '3'])$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', ARRAY[true, false, true])$$);
SELECT pg_temp.try($$SELECT lhv_add('err', 'v', '{a,b,c}')$$);
-- The same checks for queries.
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', '{1,2}')$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', ARRAY[1, 'NaN', 3]::real[])$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', '{0,0,0}')$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', NULL::real[])$$);
SELECT pg_temp.try($$SELECT * FROM lhv_search('err', NULL)$$);
-- A zero vector is fine where the distance is not cosine.
SELECT lhv_add('err_l2', 'zero', '{0,0}');
SELECT id, distance FROM lhv_search('err_l2', '{0,0}', 1);

-- Bad ids: 22004 (NULL) and 22023 (empty), for add, get and delete.
SELECT pg_temp.try($$SELECT lhv_add('err', NULL, '{1,2,3}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '', '{1,2,3}')$$);
SELECT pg_temp.try($$SELECT * FROM lhv_get('err', NULL)$$);
SELECT pg_temp.try($$SELECT * FROM lhv_get('err', '')$$);
SELECT pg_temp.try($$SELECT lhv_delete('err', NULL)$$);
SELECT pg_temp.try($$SELECT lhv_delete('err', '')$$);
SELECT count FROM lhv_info('err');

-- Batches: a malformed item is 22023, a bad vector 22000 as above; the
-- whole batch is refused, even its good items, and the stored item keeps its
-- vector and metadata.
SELECT pg_temp.try($$SELECT lhv_add('err', '{"id": "a", "vector": [1,2,3]}')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '"items"')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', NULL::jsonb)$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[1, 2]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"vector": [1,2,3]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": null, "vector": [1,2,3]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": 7, "vector": [1,2,3]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": "", "vector": [1,2,3]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": "h"}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": "h", "vector": "1,2,3"}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": "h", "vector": [1,"2",3]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": "h", "vector": [1,[2],3]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": "h", "vector": [1,null,3]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": "h", "vector": [1,2]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": "h", "vector": [0,0,0]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, {"id": "h", "vector": [1,1e39,3]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "keep", "vector": [9,9,9], "metadata": {}}, {"id": "h", "vector": [1,2]}]')$$);
SELECT pg_temp.try($$SELECT lhv_add('err', '[{"id": "g", "vector": [1,1,1]}, "h"]')$$);
SELECT count FROM lhv_info('err');
SELECT * FROM lhv_get('err', 'keep');
SELECT * FROM lhv_get('err', 'g');

-- A failing call in a transaction stores nothing and the transaction can go
-- on from a savepoint.
BEGIN;
SELECT lhv_add('err', 'in_tx', '{1,1,1}');
SAVEPOINT s;
SELECT lhv_add('err', '[{"id": "bad1", "vector": [1,1,1]}, {"id": "bad2", "vector": [1,1]}]');
ROLLBACK TO SAVEPOINT s;
SELECT lhv_add('err', 'after', '{2,2,2}');
COMMIT;
SELECT d.id FROM lhv_data.err d ORDER BY d.id;

-- Direct writes to the table are held to the same rules by its constraints.
\set VERBOSITY sqlstate
INSERT INTO lhv_data.err VALUES ('direct', '{1,2}');
INSERT INTO lhv_data.err VALUES ('', '{1,2,3}');
INSERT INTO lhv_data.err VALUES ('direct', NULL);
INSERT INTO lhv_data.err VALUES ('direct', '{1,NaN,3}');
\set VERBOSITY default

SELECT lhv_drop('err'), lhv_drop('err_l2');
SELECT count(*) FROM lhv_named_indexes;
