-- am_operators.sql: the distance operators <-> (Euclidean), <=> (cosine
-- distance) and <#> (negative inner product) on real[]: exact values on
-- hand-made vectors, NULL handling, every error with its SQLSTATE, and the
-- same ORDER BY with and without an lhv index.

-- Euclidean: 3-4-5 triangles, symmetric, zero on itself.
SELECT '{0,0}'::real[] <-> '{3,4}'::real[] AS d5,
       '{3,4}'::real[] <-> '{0,0}'::real[] AS d5_symmetric,
       '{1,2,3}'::real[] <-> '{1,2,3}'::real[] AS d0,
       '{1,1,1,1}'::real[] <-> '{2,2,2,2}'::real[] AS d2,
       '{-1}'::real[] <-> '{2}'::real[] AS d3_one_dim,
       '{5,12}'::real[] <-> '{0,0}'::real[] AS d13;

-- Cosine distance, 1 - cos: same direction 0, orthogonal 1, opposite 2,
-- independent of length; 60 degrees gives 0.5.
SELECT '{1,0}'::real[] <=> '{5,0}'::real[] AS same_direction,
       '{1,0}'::real[] <=> '{0,3}'::real[] AS orthogonal,
       '{1,2}'::real[] <=> '{-2,-4}'::real[] AS opposite,
       round(('{1,0}'::real[] <=> '{1,1.7320508}'::real[])::numeric, 6) AS sixty_degrees,
       round(('{3,4}'::real[] <=> '{4,3}'::real[])::numeric, 12) AS d_0_04_rounded;

-- Negative inner product.
SELECT '{1,2,3}'::real[] <#> '{4,5,6}'::real[] AS minus_32,
       '{1,0}'::real[] <#> '{0,1}'::real[] AS zero,
       '{-1,-2}'::real[] <#> '{3,4}'::real[] AS plus_11,
       '{0,0}'::real[] <#> '{0,0}'::real[] AS zero_vectors;

-- Computed in double precision: 0.1 as real is not 0.1 as double.
SELECT '{0.1}'::real[] <-> '{0}'::real[] = 0.1::real::float8 AS exact_float4_input,
       pg_typeof('{0.1}'::real[] <-> '{0}'::real[]) AS result_type;

-- Large components do not overflow (float8 sums).
SELECT ('{3e30,4e30}'::real[] <-> '{0,0}'::real[]) / 1e30 BETWEEN 4.9999 AND 5.0001 AS d5e30,
       ('{1e30}'::real[] <#> '{1e30}'::real[]) / 1e60 BETWEEN -1.0001 AND -0.9999 AS ip_minus_1e60,
       ('{1e-30}'::real[] <-> '{-1e-30}'::real[]) / 1e-30 BETWEEN 1.9999 AND 2.0001 AS tiny_no_underflow;

-- Other array shapes that are still one-dimensional: a lower bound other
-- than 1 is fine.
SELECT '[0:1]={3,4}'::real[] <-> '{0,0}'::real[] AS lower_bound_zero;

-- Operands of other types convert to real[] or are rejected by the parser.
SELECT ARRAY[3,4]::real[] <-> ARRAY[0,0]::real[] AS from_int_array;

-- STRICT: a NULL operand gives NULL, a NULL row sorts last.
SELECT NULL::real[] <-> '{1}'::real[] IS NULL AS l2_null,
       '{1}'::real[] <=> NULL::real[] IS NULL AS cosine_null,
       NULL::real[] <#> NULL::real[] IS NULL AS ip_null;

-- Errors, each with its SQLSTATE.
\set VERBOSITY sqlstate
-- different dimensions: 22000
SELECT '{1,2}'::real[] <-> '{1,2,3}'::real[];
SELECT '{1,2}'::real[] <=> '{1}'::real[];
SELECT '{1,2}'::real[] <#> '{1}'::real[];
-- not one-dimensional: 22000
SELECT '{{1,2},{3,4}}'::real[] <-> '{{1,2},{3,4}}'::real[];
SELECT '{{1,2}}'::real[] <=> '{1,2}'::real[];
SELECT '{1,2}'::real[] <#> '{{1,2}}'::real[];
-- empty array: 22000
SELECT '{}'::real[] <-> '{}'::real[];
-- NULL elements: 22004
SELECT '{1,NULL}'::real[] <-> '{1,2}'::real[];
SELECT '{1,2}'::real[] <=> '{NULL,2}'::real[];
SELECT '{NULL}'::real[] <#> '{1}'::real[];
-- NaN and infinity: 22000
SELECT '{NaN,1}'::real[] <-> '{1,2}'::real[];
SELECT '{1,2}'::real[] <=> '{Infinity,2}'::real[];
SELECT '{-Infinity}'::real[] <#> '{1}'::real[];
-- cosine of a zero vector: 22000
SELECT '{0,0}'::real[] <=> '{1,0}'::real[];
SELECT '{1,0}'::real[] <=> '{0,0}'::real[];
\set VERBOSITY default

-- The messages, once each.
SELECT '{1,2}'::real[] <-> '{1,2,3}'::real[];
SELECT '{{1,2},{3,4}}'::real[] <-> '{1,2}'::real[];
SELECT '{1,NULL}'::real[] <-> '{1,2}'::real[];
SELECT '{NaN,1}'::real[] <-> '{1,2}'::real[];
SELECT '{0,0}'::real[] <=> '{1,0}'::real[];

-- ORDER BY gives the same order with and without an index, for each
-- operator class, on small exact data with distinct distances.
CREATE TABLE ops_items (id int PRIMARY KEY, v real[]);
INSERT INTO ops_items VALUES
    (1, '{0,0,1}'), (2, '{3,4,0}'), (3, '{1,1,1}'), (4, '{-2,0,5}'), (5, '{6,8,1}'),
    (6, '{0.5,-0.25,2}'), (7, '{10,0,0}'), (8, '{-3,-4,-1}'), (9, '{2,1,0.25}'), (10, '{0,7.5,3}'),
    (11, NULL);
CREATE INDEX ops_l2 ON ops_items USING lhv (v lhv_l2_ops);
CREATE INDEX ops_ip ON ops_items USING lhv (v lhv_ip_ops);
CREATE INDEX ops_cos ON ops_items USING lhv (v lhv_cosine_ops);

-- Brute force, no index.
SET enable_indexscan = off;
SELECT id, round((v <-> '{1,1,0}')::numeric, 6) AS d FROM ops_items ORDER BY v <-> '{1,1,0}', id;
SELECT id, round((v <#> '{1,1,0}')::numeric, 6) AS d FROM ops_items ORDER BY v <#> '{1,1,0}', id;
SELECT id, round((v <=> '{1,1,0}')::numeric, 6) AS d FROM ops_items ORDER BY v <=> '{1,1,0}', id;
RESET enable_indexscan;

-- Through the index (a graph of 10 vectors holds them all, so the scan is
-- exact); the row with a NULL vector is not in the index.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ops_items ORDER BY v <-> '{1,1,0}' LIMIT 20;
SELECT id, round((v <-> '{1,1,0}')::numeric, 6) AS d FROM ops_items ORDER BY v <-> '{1,1,0}' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id FROM ops_items ORDER BY v <#> '{1,1,0}' LIMIT 20;
SELECT id, round((v <#> '{1,1,0}')::numeric, 6) AS d FROM ops_items ORDER BY v <#> '{1,1,0}' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id FROM ops_items ORDER BY v <=> '{1,1,0}' LIMIT 20;
SELECT id, round((v <=> '{1,1,0}')::numeric, 6) AS d FROM ops_items ORDER BY v <=> '{1,1,0}' LIMIT 20;

-- Same order as brute force (queries chosen with no ties), one boolean per
-- operator and query; ids_index checks that its plan is an lhv index scan.
CREATE FUNCTION pg_temp.ids_exact(q real[], op text) RETURNS int[] LANGUAGE plpgsql
SET enable_indexscan = off SET enable_seqscan = on AS $$
DECLARE r int[];
BEGIN
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM ops_items WHERE v IS NOT NULL
                    ORDER BY v %s $1 LIMIT 20) s', op) INTO r USING q;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.ids_index(q real[], op text) RETURNS int[] LANGUAGE plpgsql
SET enable_seqscan = off SET enable_indexscan = on AS $$
DECLARE r int[];
    plan text;
BEGIN
    FOR plan IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM ops_items ORDER BY v %s $1 LIMIT 20', op) USING q
    LOOP
        IF plan LIKE '%Seq Scan%' OR plan LIKE '%Sort%' THEN
            RAISE EXCEPTION 'not an index scan: %', plan;
        END IF;
    END LOOP;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM ops_items
                    ORDER BY v %s $1 LIMIT 20) s', op) INTO r USING q;
    RETURN r;
END $$;
SELECT op, q, pg_temp.ids_exact(q, op) = pg_temp.ids_index(q, op) AS same_order
FROM (VALUES ('<->'), ('<#>'), ('<=>')) o(op),
     (VALUES ('{1,1,0}'::real[]), ('{1.1,0.7,0.3}'), ('{-0.9,2.3,-3.7}')) q(q)
ORDER BY 1, 2::text;

-- The query vector's dimension must be the index's: 22000.
\set VERBOSITY sqlstate
SELECT id FROM ops_items ORDER BY v <-> '{1,1}' LIMIT 3;
SELECT id FROM ops_items ORDER BY v <-> '{1,NaN,1}' LIMIT 3;
SELECT id FROM ops_items ORDER BY v <=> '{0,0,0}' LIMIT 3;
\set VERBOSITY default
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP TABLE ops_items;
