-- named_transactions.sql: named indexes are transactional: a rollback leaves
-- nothing (create, add, delete, drop), savepoints undo part of a
-- transaction, and a transaction sees its own writes before it commits.

-- A rolled-back lhv_create leaves no catalog row and no table.
BEGIN;
SELECT lhv_create('tx', 2, 'euclidean');
SELECT name FROM lhv_list();
ROLLBACK;
SELECT count(*) AS catalog_rows FROM lhv_named_indexes;
SELECT count(*) AS tables FROM pg_class WHERE relnamespace = 'lhv_data'::regnamespace;
SELECT lhv_create('tx', 2, 'euclidean');

-- Read your own writes: adds, replacements and deletes are seen by
-- lhv_search and lhv_get in the same transaction, and gone after ROLLBACK.
BEGIN;
SELECT lhv_add('tx', 'a', '{1,1}');
SELECT lhv_add('tx', '[{"id": "b", "vector": [2,2]}, {"id": "c", "vector": [3,3]}]');
SELECT id, distance FROM lhv_search('tx', '{0,0}', 5);
SELECT * FROM lhv_get('tx', 'b');
SELECT lhv_delete('tx', 'a');
SELECT id FROM lhv_search('tx', '{0,0}', 5);
SELECT count FROM lhv_info('tx');
ROLLBACK;
SELECT count FROM lhv_info('tx');
SELECT id FROM lhv_search('tx', '{0,0}', 5);
SELECT * FROM lhv_get('tx', 'b');

-- Committed data, then a transaction that replaces and deletes, rolled back.
SELECT lhv_add('tx', '[{"id": "a", "vector": [1,1], "metadata": {"v": 1}},
                       {"id": "b", "vector": [2,2], "metadata": {"v": 2}}]');
BEGIN;
SELECT lhv_add('tx', 'a', '{10,10}', '{"v": 10}');
SELECT lhv_delete('tx', 'b');
SELECT id, distance, metadata FROM lhv_search('tx', '{0,0}', 5);
ROLLBACK;
SELECT id, distance, metadata FROM lhv_search('tx', '{0,0}', 5);

-- Savepoints: what a rolled-back savepoint did is gone, the rest stays.
BEGIN;
SELECT lhv_add('tx', 'c', '{3,3}');
SAVEPOINT s1;
SELECT lhv_add('tx', 'd', '{4,4}');
SELECT lhv_delete('tx', 'a');
SELECT id FROM lhv_search('tx', '{0,0}', 10);
ROLLBACK TO SAVEPOINT s1;
SELECT id FROM lhv_search('tx', '{0,0}', 10);
SAVEPOINT s2;
SELECT lhv_add('tx', 'e', '{5,5}');
RELEASE SAVEPOINT s2;
COMMIT;
SELECT id FROM lhv_search('tx', '{0,0}', 10);

-- Create, fill and search in one transaction; drop in a savepoint that is
-- rolled back; drop and re-create with other parameters in one transaction.
BEGIN;
SELECT lhv_create('tx2', 3);
SELECT lhv_add('tx2', 'x', '{1,0,0}');
SELECT id FROM lhv_search('tx2', '{1,0,0}', 1);
SAVEPOINT s;
SELECT lhv_drop('tx2');
SELECT count(*) FROM lhv_named_indexes WHERE name = 'tx2';
ROLLBACK TO SAVEPOINT s;
SELECT id FROM lhv_search('tx2', '{1,0,0}', 1);
SELECT lhv_drop('tx2');
SELECT lhv_create('tx2', 4, 'inner_product');
SELECT dimension, distance, count FROM lhv_info('tx2');
COMMIT;
SELECT dimension, distance, count FROM lhv_info('tx2');

-- A rolled-back lhv_create does not block the name (or its parameters).
BEGIN;
SELECT lhv_create('tx3', 2);
ROLLBACK;
SELECT lhv_create('tx3', 7);
SELECT dimension FROM lhv_info('tx3');

-- lhv_add in a read-only transaction fails as any write does; search works.
BEGIN READ ONLY;
SELECT count(*) FROM lhv_search('tx', '{0,0}', 3);
\set VERBOSITY sqlstate
SELECT lhv_add('tx', 'ro', '{1,1}');
\set VERBOSITY default
ROLLBACK;

SELECT lhv_drop('tx'), lhv_drop('tx2'), lhv_drop('tx3');
SELECT count(*) FROM lhv_named_indexes;
