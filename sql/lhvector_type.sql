-- lhvector_type.sql: lhv's vector type without an index: text and binary
-- input and output (pgvector's formats), the dimension typmod, casts from and
-- to arrays, the distance operators against the real[] ones, and every error
-- with its SQLSTATE. try() runs a statement and shows 'ok' or SQLSTATE: message.
CREATE FUNCTION pg_temp.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- ---- Text input and output ----
SELECT '[1,2,3]'::lhvector AS simple,
       ' [ 1.5 ,-2e-3,	3.25e2 ] '::lhvector AS spaces_and_exponents,
       '[+1,-0,0.000001,1E10,.5,5.]'::lhvector AS signs_and_forms,
       '[0x10]'::lhvector AS hexadecimal_as_real_reads_it,
       '[1e-40]'::lhvector AS denormal;
-- Output is the shortest text that reads back to the same float.
SELECT '[0.1,0.2,0.30000001,3.4028235e38,-1.1754944e-38]'::lhvector AS shortest;
-- Round trips text -> lhvector -> text -> lhvector, bit for bit.
SELECT count(*) AS vectors,
       count(*) FILTER (WHERE v::text::lhvector::real[] = v::real[]) AS text_round_trips
FROM (SELECT ARRAY(SELECT ((random() - 0.5) * 10 ^ (random() * 20 - 10))::real
                   FROM generate_series(1, 50) WHERE i > 0)::lhvector AS v
      FROM generate_series(1, 200) i) s;
-- Each component reads exactly as the same text read as real (float4in):
-- the fast path for short decimals and strtof agree with it.
SELECT setseed(0.3);
SELECT count(*) AS strings,
       count(*) FILTER (WHERE ('[' || s || ']')::lhvector::real[] = ARRAY[s::real]) AS same_as_real
FROM (SELECT CASE i % 6
                 WHEN 0 THEN ((random() - 0.5) * 1000)::real::text
                 WHEN 1 THEN ((random() - 0.5) * 10 ^ (random() * 76 - 38))::real::text
                 WHEN 2 THEN ((random() - 0.5) * 10 ^ (random() * 600 - 300))::float8::text
                 WHEN 3 THEN round(((random() - 0.5) * 100000)::numeric, (random() * 8)::int)::text
                 WHEN 4 THEN (random() * 9e15)::bigint::text || 'e' || ((random() * 50)::int - 36)
                 ELSE '0.' || lpad((random() * 100000000)::bigint::text, (random() * 12)::int + 1, '0')
             END AS s
      FROM generate_series(1, 6000) i) g
WHERE s::float8 BETWEEN -3.4e38 AND 3.4e38 AND (s::float8 = 0 OR abs(s::float8) > 1.2e-38);
-- Halfway between two floats, ties go to even; just above, up. The last
-- two are 2e-16 below and 8e-16 above the midpoint 8 + 2^-21: the nearest
-- double is the midpoint itself, so rounding that double to float would tie
-- to 8 for both; they must read as real reads them.
SELECT '[16777217,16777219,16777217.00000001,-16777217,0.1,3.4028235e38,8.000000476837158,8.000000476837159]'::lhvector::real[]
     = '{16777217,16777219,16777217.00000001,-16777217,0.1,3.4028235e38,8.000000476837158,8.000000476837159}'::real[]
       AS ties_as_real,
       '[16777217,16777219,16777217.00000001,8.000000476837158,8.000000476837159]'::lhvector AS ties;
SELECT lhvector_dims('[1,2,3]'), lhvector_dims(array_fill(1, ARRAY[16000])::lhvector);

-- Text errors: 22P02 for syntax, 22000 for the vector's rules, 22003 out of
-- real's range.
SELECT pg_temp.try($$SELECT '1,2'::lhvector$$);
SELECT pg_temp.try($$SELECT '{1,2}'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1,2'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1,,2]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1 2]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1,2] x'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1,a]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1,]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1e]'::lhvector$$);
SELECT pg_temp.try($$SELECT ''::lhvector$$);
SELECT pg_temp.try($$SELECT '[]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[ ]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[NaN]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1,Infinity]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[-inf]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1e39]'::lhvector$$);
SELECT pg_temp.try($$SELECT '[1e-50]'::lhvector$$);
SELECT pg_temp.try(format('SELECT %L::lhvector', '[' || repeat('1,', 16000) || '1]'));
SELECT pg_temp.try(format('SELECT %L::lhvector', '[' || repeat('1,', 15999) || '1]'));

-- ---- Binary output and input: pgvector's wire format ----
-- int16 dimension, int16 zero, float4 components, network byte order.
SELECT lhvector_send('[1,-2.5]') AS two_components,
       lhvector_send('[0]') AS zero;
\getenv abs_builddir PG_ABS_BUILDDIR
\set copy_file :abs_builddir '/results/lhvector_type.copy'
-- COPY BINARY uses send and receive: a round trip keeps every bit.
CREATE TABLE bin_src (id int, v lhvector);
INSERT INTO bin_src SELECT i, ARRAY(SELECT ((random() - 0.5) * 10 ^ (random() * 20 - 10))::real
                                     FROM generate_series(1, i % 37 + 1) WHERE i > 0)::lhvector
FROM generate_series(1, 300) i;
COPY bin_src TO :'copy_file' WITH (FORMAT binary);
CREATE TABLE bin_dst (id int, v lhvector);
COPY bin_dst FROM :'copy_file' WITH (FORMAT binary);
SELECT count(*) AS rows, count(*) FILTER (WHERE s.v::real[] = d.v::real[]) AS identical
FROM bin_src s JOIN bin_dst d USING (id);

-- Hand-made binary COPY files with one lhvector field exercise receive's
-- checks. pg_temp.copy_one(field) writes a file holding one row.
CREATE FUNCTION pg_temp.copy_one(field bytea, path text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    lo oid;
BEGIN
    lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                           || '\x0001'::bytea || int4send(length(field)) || field
                           || '\xffff'::bytea);
    PERFORM lo_export(lo, path);
    PERFORM lo_unlink(lo);
END $$;
CREATE TABLE bin_one (v lhvector);
CREATE TABLE bin_three (v lhvector(3));
SELECT pg_temp.copy_one('\x000200003f800000c0200000', :'copy_file');
COPY bin_one FROM :'copy_file' WITH (FORMAT binary);
SELECT v FROM bin_one;
-- the typmod applies to binary input too
SELECT pg_temp.try(format('COPY bin_three FROM %L WITH (FORMAT binary)', :'copy_file'));
-- 0 and 16,001 dimensions
SELECT pg_temp.copy_one('\x00000000', :'copy_file');
SELECT pg_temp.try(format('COPY bin_one FROM %L WITH (FORMAT binary)', :'copy_file'));
SELECT pg_temp.copy_one('\x3e810000', :'copy_file');
SELECT pg_temp.try(format('COPY bin_one FROM %L WITH (FORMAT binary)', :'copy_file'));
-- the reserved field must be zero
SELECT pg_temp.copy_one('\x000100013f800000', :'copy_file');
SELECT pg_temp.try(format('COPY bin_one FROM %L WITH (FORMAT binary)', :'copy_file'));
-- fewer bytes than the dimension says, and more
SELECT pg_temp.copy_one('\x000200003f800000', :'copy_file');
SELECT pg_temp.try(format('COPY bin_one FROM %L WITH (FORMAT binary)', :'copy_file'));
SELECT pg_temp.copy_one('\x000100003f80000000', :'copy_file');
SELECT pg_temp.try(format('COPY bin_one FROM %L WITH (FORMAT binary)', :'copy_file'));
-- NaN and infinity
SELECT pg_temp.copy_one('\x000200003f8000007fc00000', :'copy_file');
SELECT pg_temp.try(format('COPY bin_one FROM %L WITH (FORMAT binary)', :'copy_file'));
SELECT pg_temp.copy_one('\x00010000ff800000', :'copy_file');
SELECT pg_temp.try(format('COPY bin_one FROM %L WITH (FORMAT binary)', :'copy_file'));
SELECT count(*) AS rows_after_errors FROM bin_one;

-- ---- The dimension typmod ----
CREATE TABLE typmod_items (id int, v lhvector(3));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'typmod_items'::regclass AND attname = 'v';
INSERT INTO typmod_items VALUES (1, '[1,2,3]');
-- Wrong dimension, however it arrives: literal, parameter, array, COPY, UPDATE.
SELECT pg_temp.try($$INSERT INTO typmod_items VALUES (2, '[1,2]')$$);
PREPARE ins_typmod(int, lhvector) AS INSERT INTO typmod_items VALUES ($1, $2);
SELECT pg_temp.try($$EXECUTE ins_typmod(3, '[1,2,3,4]')$$);
SELECT pg_temp.try($$INSERT INTO typmod_items VALUES (4, ARRAY[1,2]::real[])$$);
SELECT pg_temp.try($$INSERT INTO typmod_items SELECT 5, '[1,2]'::lhvector$$);
SELECT pg_temp.try($$UPDATE typmod_items SET v = '[1]' WHERE id = 1$$);
COPY bin_one TO :'copy_file' WITH (FORMAT binary);
SELECT pg_temp.try(format('COPY typmod_items (v) FROM %L WITH (FORMAT binary)', :'copy_file'));
SELECT pg_temp.try($$SELECT '[1,2]'::lhvector(3)$$);
SELECT '[1,2,3]'::lhvector(3) AS cast_ok;
SELECT id, v FROM typmod_items ORDER BY id;
-- Bad typmods: 22023.
SELECT pg_temp.try($$CREATE TABLE bad_typmod (v lhvector(0))$$);
SELECT pg_temp.try($$CREATE TABLE bad_typmod (v lhvector(16001))$$);
SELECT pg_temp.try($$CREATE TABLE bad_typmod (v lhvector(3, 4))$$);
SELECT '[1]'::lhvector(1) AS smallest, lhvector_dims(array_fill(0.5, ARRAY[16000])::lhvector(16000)) AS largest;

-- ---- Casts ----
SELECT '{1.5,2,3}'::real[]::lhvector AS from_real,
       '{1.5,2,3}'::float8[]::lhvector AS from_double,
       ARRAY[1.5, 2, 3]::lhvector AS from_numeric,
       ARRAY[1, 2, -3]::lhvector AS from_integer,
       '[0:1]={7,8}'::real[]::lhvector AS from_lower_bound_0;
SELECT '[1.5,-2,3.25]'::lhvector::real[] AS to_real,
       '[1.5,-2,3.25]'::lhvector::float8[] AS to_double,
       '[1.5,-2,3.25]'::lhvector::numeric[] AS to_numeric,
       '[1.5,-2.5,3.25]'::lhvector::int[] AS to_integer_rounded_like_real;
-- Assignment casts: INSERT and UPDATE convert arrays by themselves.
CREATE TABLE cast_items (id int, v lhvector(2), back real[]);
INSERT INTO cast_items VALUES (1, ARRAY[1, 2], '[3,4]'::lhvector);
INSERT INTO cast_items VALUES (2, ARRAY[0.5, 1.5], NULL);
INSERT INTO cast_items (id, v) SELECT 3, '{7,8}'::float8[];
UPDATE cast_items SET back = v WHERE back IS NULL;
SELECT * FROM cast_items ORDER BY id;
-- but never implicitly in an expression
SELECT pg_temp.try($$SELECT '[1,2]'::lhvector <-> ARRAY[1,2]::real[]$$);
-- Cast errors: 22000 (22004 for NULL components, 22003 out of real's range).
SELECT pg_temp.try($$SELECT '{{1,2},{3,4}}'::real[]::lhvector$$);
SELECT pg_temp.try($$SELECT '{}'::real[]::lhvector$$);
SELECT pg_temp.try($$SELECT '{1,NULL}'::real[]::lhvector$$);
SELECT pg_temp.try($$SELECT '{1,NaN}'::real[]::lhvector$$);
SELECT pg_temp.try($$SELECT '{1,Infinity}'::float8[]::lhvector$$);
SELECT pg_temp.try($$SELECT '{1e300}'::float8[]::lhvector$$);
SELECT pg_temp.try($$SELECT '{1e-300}'::float8[]::lhvector$$);
SELECT pg_temp.try($$SELECT ARRAY['NaN'::numeric]::lhvector$$);
SELECT pg_temp.try($$SELECT ARRAY[1e39]::lhvector$$);
SELECT pg_temp.try($$SELECT array_fill(1, ARRAY[16001])::lhvector$$);
SELECT pg_temp.try($$SELECT '[1e10]'::lhvector::int[]$$);
SELECT pg_temp.try($$SELECT '{1,2,3}'::real[]::lhvector(2)$$);
SELECT pg_temp.try($$SELECT ARRAY[1,2,3]::lhvector(2)$$);

-- ---- Operators: the real[] operators' values, to the last bit ----
SELECT '[0,0]'::lhvector <-> '[3,4]' AS l2_5,
       '[1,0]'::lhvector <=> '[0,3]' AS cosine_orthogonal_1,
       '[1,2,3]'::lhvector <#> '[4,5,6]' AS ip_minus_32,
       '[1,0]'::lhvector <#> '[0,1]' AS ip_zero_not_minus_zero,
       '[1,-2,3]'::lhvector <+> '[-1,2,3.5]' AS l1_8_5,
       pg_typeof('[1]'::lhvector <-> '[2]') AS result_type;
SELECT setseed(0.7);
CREATE TEMP TABLE pairs AS
SELECT i, a, b FROM (
    SELECT i, ARRAY(SELECT ((random() - 0.5) * 10 ^ (random() * 6 - 3))::real
                    FROM generate_series(1, i % 9 * 97 + 1) WHERE i > 0) AS a,
              ARRAY(SELECT ((random() - 0.5) * 10 ^ (random() * 6 - 3))::real
                    FROM generate_series(1, i % 9 * 97 + 1) WHERE i > 0) AS b
    FROM generate_series(1, 300) i) s;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE a::lhvector <-> b::lhvector = a <-> b) AS l2_same,
       count(*) FILTER (WHERE a::lhvector <=> b::lhvector = a <=> b) AS cosine_same,
       count(*) FILTER (WHERE a::lhvector <#> b::lhvector = a <#> b) AS ip_same,
       count(*) FILTER (WHERE abs((a::lhvector <+> b::lhvector)
                                  - (SELECT sum(abs(x::float8 - y::float8)) FROM unnest(a, b) u(x, y)))
                              <= 1e-12 * (a::lhvector <+> b::lhvector)) AS l1_matches_sum,
       count(DISTINCT array_length(a, 1)) AS dimensions_tried
FROM pairs;
-- NULL in, NULL out.
SELECT '[1]'::lhvector <-> NULL AS null_l2, NULL::lhvector <=> '[1]' AS null_cosine;
-- Operator errors: 22000.
SELECT pg_temp.try($$SELECT '[1,2]'::lhvector <-> '[1,2,3]'$$);
SELECT pg_temp.try($$SELECT '[1,2]'::lhvector <+> '[1]'$$);
SELECT pg_temp.try($$SELECT '[0,0]'::lhvector <=> '[1,2]'$$);
SELECT pg_temp.try($$SELECT '[1,2]'::lhvector <=> '[0,0]'$$);
-- ORDER BY over a table, no index: the same order as real[].
SELECT (SELECT array_agg(i ORDER BY a::lhvector <-> '[1]'::lhvector, i) FROM pairs WHERE i % 9 = 0)
     = (SELECT array_agg(i ORDER BY a <-> '{1}'::real[], i) FROM pairs WHERE i % 9 = 0) AS same_order;

-- ---- Equality, order and hashing (btree and hash operator classes) ----
-- pgvector's order: component by component, then the shorter first; -0 = 0.
SELECT '[1,2]'::lhvector = '[1,2]' AS eq, '[1,2]'::lhvector <> '[1,2.5]' AS ne,
       '[1,2]'::lhvector < '[1,3]' AS lt, '[1,2]'::lhvector < '[1,2,0]' AS shorter_first,
       '[2]'::lhvector > '[1,9,9]' AS first_component_decides, '[-0,1]'::lhvector = '[0,1]' AS minus_zero,
       '[1,2]'::lhvector <= '[1,2]' AS le, '[1,2]'::lhvector >= '[1,2]' AS ge,
       lhvector_cmp('[3]', '[-3]') AS cmp_1, lhvector_cmp('[1,2]', '[1,2]') AS cmp_0,
       '[1]'::lhvector = NULL AS null_eq;
-- Equal values hash alike (-0 and 0 too), under both hash functions.
SELECT lhvector_hash('[-0,1]') = lhvector_hash('[0,1]') AS hash_minus_zero,
       lhvector_hash_extended('[-0,1]', 7) = lhvector_hash_extended('[0,1]', 7) AS extended_minus_zero,
       lhvector_hash('[1,2]') <> lhvector_hash('[2,1]') AS hash_differs;
-- The order is real[]'s (arrays compare the same way), on the random pairs of
-- nine dimensions, and sorting, grouping, DISTINCT and UNIQUE use it.
SELECT count(*) FILTER (WHERE (a::lhvector < b::lhvector) = (a < b)
                          AND (a::lhvector = b::lhvector) = (a = b)
                          AND (a::lhvector >= b::lhvector) = (a >= b)) AS agrees_with_real_arrays,
       count(*) AS pairs
FROM pairs;
SELECT (SELECT array_agg(i ORDER BY a::lhvector, i) FROM pairs)
     = (SELECT array_agg(i ORDER BY a, i) FROM pairs) AS sorts_as_real_arrays;
SELECT v, count(*) FROM (VALUES ('[1,2]'::lhvector), ('[1,2]'), ('[0,-0]'), ('[0,0]'), ('[0]')) s(v)
GROUP BY v ORDER BY v;
SET enable_sort = off;
-- Each vector, and each with a 0 appended twice, once as -0 (equal, so both
-- the hash aggregate and the sort keep one of the two: 600 of 900).
CREATE TEMP VIEW doubled AS
SELECT a::lhvector AS v FROM pairs
UNION ALL
SELECT ARRAY(SELECT CASE WHEN x = 0 THEN -x ELSE x END FROM unnest(a || '{0}'::real[]) x)::lhvector FROM pairs
UNION ALL
SELECT (a || '{0}'::real[])::lhvector FROM pairs;
EXPLAIN (COSTS OFF) SELECT DISTINCT v FROM doubled;
SELECT count(*) AS rows, count(DISTINCT v) AS distinct_sorted,
       (SELECT count(*) FROM (SELECT DISTINCT v FROM doubled) d) AS distinct_hashed
FROM doubled;
RESET enable_sort;
CREATE TABLE unique_vectors (v lhvector(2) UNIQUE);
INSERT INTO unique_vectors VALUES ('[1,2]'), ('[2,1]');
SELECT pg_temp.try($$INSERT INTO unique_vectors VALUES ('[1,2]')$$);
SELECT pg_temp.try($$INSERT INTO unique_vectors VALUES ('[-0,1]'), ('[0,1]')$$);
SELECT v FROM unique_vectors WHERE v = '[2,1]';
DROP TABLE unique_vectors;

-- ---- Norm, normalisation, + and -, sum() and avg() ----
SELECT lhvector_norm('[3,4]') AS norm_5, lhvector_normalize('[3,4]') AS unit,
       lhvector_normalize('[0,0]') AS zero_stays_zero, lhvector_norm(lhvector_normalize('[1,2,3,4,5]')) AS norm_1,
       '[1,2]'::lhvector + '[3,4.5]' AS plus, '[1,2]'::lhvector - '[3,5]' AS minus;
SELECT pg_temp.try($$SELECT '[1,2]'::lhvector + '[1]'$$);
SELECT pg_temp.try($$SELECT '[3e38]'::lhvector + '[3e38]'$$);
SELECT pg_temp.try($$SELECT '[-3e38]'::lhvector - '[3e38]'$$);
-- avg() is the centroid, sum() the sum, component by component: the same as
-- summing each component in double precision over the rows.
CREATE TEMP TABLE same_dim AS SELECT i, a FROM pairs WHERE array_length(a, 1) = 98;
SELECT count(*) AS rows,
       (SELECT max(abs(c.x - e.x)) FROM unnest((SELECT avg(a::lhvector)::real[] FROM same_dim)) WITH ORDINALITY c(x, k)
        JOIN (SELECT k, avg(a[k]::float8)::real AS x FROM same_dim, generate_subscripts(a, 1) k GROUP BY k) e
        USING (k)) AS avg_max_difference,
       (SELECT max(abs(c.x - e.x)) FROM unnest((SELECT sum(a::lhvector)::real[] FROM same_dim)) WITH ORDINALITY c(x, k)
        JOIN (SELECT k, sum(a[k]::float8)::real AS x FROM same_dim, generate_subscripts(a, 1) k GROUP BY k) e
        USING (k)) AS sum_max_difference
FROM same_dim;
SELECT avg(v), sum(v) FROM (VALUES ('[1,2]'::lhvector), ('[3,6]'), (NULL)) s(v);
SELECT avg(v) IS NULL AS avg_of_nothing, sum(v) IS NULL AS sum_of_nothing FROM (SELECT '[1]'::lhvector WHERE false) s(v);
SELECT pg_temp.try($$SELECT avg(v) FROM (VALUES ('[1,2]'::lhvector), ('[1,2,3]')) s(v)$$);
SELECT pg_temp.try($$SELECT sum(v) FROM (VALUES ('[3e38]'::lhvector), ('[3e38]')) s(v)$$);
-- The state functions can be called directly: a malformed state is 22023.
SELECT pg_temp.try($$SELECT lhvector_accumulate('{}', '[1]')$$);
SELECT pg_temp.try($$SELECT lhvector_avg_final('{0,1}')$$);
SELECT pg_temp.try($$SELECT lhvector_accumulate('{1,NULL}', '[1]')$$);
SELECT pg_temp.try($$SELECT lhvector_sum_final(array_fill(1::float8, ARRAY[16002]))$$);
SELECT pg_temp.try($$SELECT lhvector_combine('{1,2}', '{1,2,3}')$$);
SELECT lhvector_accumulate('{1,1}', '[2]') AS accumulated, lhvector_avg_final('{2,3}') AS averaged;
-- Grouped, and in parallel: partial states combine to the same centroids.
CREATE TABLE centroids_src AS
SELECT i % 4 AS g, ARRAY[i % 7, i % 11, (i * 37) % 101]::lhvector(3) AS v FROM generate_series(1, 20000) i;
ANALYZE centroids_src;
CREATE TEMP TABLE serial_centroids AS SELECT g, avg(v) AS c, sum(v) AS s FROM centroids_src GROUP BY g;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v) FROM centroids_src;
SELECT (SELECT avg(v) FROM centroids_src) = (SELECT avg(v) FROM (SELECT v FROM centroids_src OFFSET 0) s) AS parallel_avg_same,
       (SELECT sum(v) FROM centroids_src) AS parallel_sum;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SELECT g, c, s FROM serial_centroids ORDER BY g;
DROP TABLE centroids_src;

-- ---- Storage ----
-- STORAGE EXTERNAL by default (see README.md): any dimension can be stored.
-- A column set to PLAIN (cheaper, for up to about 2,000 dimensions) keeps
-- vectors in the heap row, so a row must fit a page.
SELECT typstorage, typalign, typlen FROM pg_type WHERE typname = 'lhvector';
CREATE TABLE wide (id int, v lhvector);
INSERT INTO wide VALUES (1, array_fill(0.25, ARRAY[16000])::lhvector);
ALTER TABLE wide ALTER COLUMN v SET STORAGE PLAIN;
INSERT INTO wide VALUES (2, array_fill(0.25, ARRAY[2000])::lhvector);
\set VERBOSITY sqlstate
INSERT INTO wide VALUES (3, array_fill(0.25, ARRAY[4000])::lhvector);
\set VERBOSITY default
SELECT id, lhvector_dims(v), v <-> v AS zero, pg_column_size(v) FROM wide ORDER BY id;

DROP TABLE bin_src, bin_dst, bin_one, bin_three, typmod_items, cast_items, wide;
