-- named_recall.sql: lhv_search against the exact answer (the same ORDER BY
-- with the index disabled) for each distance: recall@10 over 30 queries,
-- exactly k rows, nearest first, and a wider ef_search recalls at least as
-- much. Data: 3,000 random 16-d vectors, the same in each index.
SELECT setseed(0.8);
CREATE TEMP TABLE recall_data AS
SELECT i, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 16) WHERE i > 0) AS v
FROM generate_series(1, 3000) i;
CREATE TEMP TABLE recall_queries AS
SELECT q, ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 16) WHERE q > 0) AS v
FROM generate_series(1, 30) q;

SELECT lhv_create('recall_cos', 16, 'cosine');
SELECT lhv_create('recall_l2', 16, 'euclidean');
SELECT lhv_create('recall_ip', 16, 'inner_product', ef_search => 40);
-- In batches of 500.
SELECT sum(lhv_add(name, items)) AS added
FROM (SELECT jsonb_agg(jsonb_build_object('id', 'v' || i, 'vector', to_jsonb(v),
                                          'metadata', jsonb_build_object('i', i))) AS items
      FROM recall_data GROUP BY i / 500) b,
     unnest(ARRAY['recall_cos', 'recall_l2', 'recall_ip']) name;
SELECT name, count FROM lhv_list() ORDER BY name;

-- Approximate: lhv_search. Exact: the operator over the whole table with no index.
CREATE TEMP TABLE recall_ann AS
SELECT n.name, q.q, s.id, s.distance, s.metadata, s.rank
FROM unnest(ARRAY['recall_cos', 'recall_l2', 'recall_ip']) n(name), recall_queries q,
     lhv_search(n.name, q.v, 10) WITH ORDINALITY s(id, distance, metadata, rank);
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE recall_exact AS
SELECT 'recall_cos' AS name, q.q, e.id
FROM recall_queries q, LATERAL (SELECT t.id FROM lhv_data.recall_cos t ORDER BY t.embedding <=> q.v LIMIT 10) e
UNION ALL
SELECT 'recall_l2', q.q, e.id
FROM recall_queries q, LATERAL (SELECT t.id FROM lhv_data.recall_l2 t ORDER BY t.embedding <-> q.v LIMIT 10) e
UNION ALL
SELECT 'recall_ip', q.q, e.id
FROM recall_queries q, LATERAL (SELECT t.id FROM lhv_data.recall_ip t ORDER BY t.embedding <#> q.v LIMIT 10) e;
RESET enable_indexscan;
RESET enable_bitmapscan;
-- The exact query really did not use the index.
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT t.id FROM lhv_data.recall_l2 t ORDER BY t.embedding <-> '{1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1}' LIMIT 10;
RESET enable_indexscan;

-- Exactly 10 rows per query, distinct ids, nearest first (up to the graph's
-- single precision), metadata carried along.
SELECT name, count(*) = 300 AS ten_per_query, count(DISTINCT (q, id)) = 300 AS distinct_ids
FROM recall_ann GROUP BY name ORDER BY name;
SELECT name, bool_and(ordered) AS nearest_first
FROM (SELECT name, distance >= lag(distance, 1, '-Infinity') OVER (PARTITION BY name, q ORDER BY rank) - 1e-6 AS ordered
      FROM recall_ann) o GROUP BY name ORDER BY name;
SELECT bool_and(metadata = jsonb_build_object('i', substr(id, 2)::int)) AS metadata_matches FROM recall_ann;

-- Recall@10 against the exact answer.
SELECT e.name, (count(a.id)::float8 / count(*)) >= 0.9 AS recall_at_least_0_9
FROM recall_exact e LEFT JOIN recall_ann a ON a.name = e.name AND a.q = e.q AND a.id = e.id
GROUP BY e.name ORDER BY e.name;

-- A wider search (ef_search 400) finds nearly every true neighbour.
CREATE TEMP TABLE recall_wide AS
SELECT n.name, q.q, s.id
FROM unnest(ARRAY['recall_cos', 'recall_l2', 'recall_ip']) n(name), recall_queries q,
     lhv_search(n.name, q.v, 10, 400) s;
SELECT e.name, (count(a.id)::float8 / count(*)) >= 0.98 AS recall_at_least_0_98
FROM recall_exact e LEFT JOIN recall_wide a ON a.name = e.name AND a.q = e.q AND a.id = e.id
GROUP BY e.name ORDER BY e.name;

-- Every stored vector finds itself first, at distance 0 (its exact copy).
SELECT n.name, bool_and(s.id = 'v' || d.i AND s.distance <= 1e-6) AS finds_itself
FROM unnest(ARRAY['recall_cos', 'recall_l2']) n(name),
     (SELECT * FROM recall_data WHERE i % 100 = 0) d,
     lhv_search(n.name, d.v, 1, 100) s
GROUP BY n.name ORDER BY n.name;
SELECT bool_and(g.vector = d.v) AS exact_round_trip
FROM recall_data d, lhv_get('recall_l2', 'v' || d.i) g;

-- Deleted items never come back; k larger than what is left returns the rest.
SELECT count(*) FILTER (WHERE lhv_delete('recall_l2', 'v' || i)) AS deleted FROM generate_series(1, 2990) i;
SELECT count(*) AS rows, count(*) FILTER (WHERE substr(id, 2)::int > 2990) AS survivors
FROM lhv_search('recall_l2', (SELECT v FROM recall_queries WHERE q = 1), 50);

SELECT lhv_drop('recall_cos'), lhv_drop('recall_l2'), lhv_drop('recall_ip');
