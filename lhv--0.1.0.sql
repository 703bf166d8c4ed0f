-- lhv--0.1.0.sql: SQL objects of the lhv extension, version 0.1.0.
-- The module must be in shared_preload_libraries; loading it otherwise fails
-- with an error that says so.

\echo Use "CREATE EXTENSION lhv" to load this file. \quit

-- The extension's version (the one in lhv.control).
CREATE FUNCTION lhv_version() RETURNS text
    AS 'MODULE_PATHNAME', 'lhv_version'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

-- The distance kernels chosen for this CPU: 'avx512', 'avx2' or 'scalar'.
CREATE FUNCTION lhv_simd() RETURNS text
    AS 'MODULE_PATHNAME', 'lhv_simd'
    LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- lhv's shared memory: the part reserved in the main segment
-- (lhv.shared_memory_reserved), the cap (lhv.max_shared_memory), what the
-- area spans now (NULL if the server cannot tell), the graphs' bytes and the
-- number of indexes in the registry.
CREATE FUNCTION lhv_memory(
    OUT reserved_bytes bigint,
    OUT limit_bytes bigint,
    OUT total_bytes bigint,
    OUT graph_bytes bigint,
    OUT indexes integer)
    RETURNS record
    AS 'MODULE_PATHNAME', 'lhv_memory'
    LANGUAGE C STRICT VOLATILE PARALLEL SAFE;

CREATE VIEW lhv_memory AS SELECT * FROM lhv_memory();

-- What this backend keeps for lhv in its own memory: its views of graphs
-- (those of dropped or replaced indexes are swept first), the views retired
-- during the current transaction (freed at its end), and the bytes of both
-- (their caches of chunk addresses and the visited sets of their searches).
CREATE FUNCTION lhv_backend_memory(
    OUT graph_views integer,
    OUT retired_views integer,
    OUT view_bytes bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'lhv_backend_memory'
    LANGUAGE C STRICT VOLATILE PARALLEL RESTRICTED;

-- The envelope of an LHV1 snapshot (version, name, params, metadata) and the
-- size of its graph bytes. Malformed input raises SQLSTATE 22P03.
CREATE FUNCTION lhv_snapshot_info(snapshot bytea) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'lhv_snapshot_info'
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

-- ==== Storage: snapshots and their monitoring ====

-- LHV1 snapshots of index graphs, as bytea parts (written at CREATE INDEX /
-- REINDEX, by lhv's snapshot worker, and by lhv_snapshot()). Keyed by the log
-- identity in each index's metapage, so a snapshot never applies to another
-- relfilenode. Not dumped by pg_dump: a restore rebuilds the indexes. Only
-- lhv itself writes it (as the table's owner); nobody else may read it.
CREATE TABLE lhv_snapshot (
    log_id bigint NOT NULL,
    snapshot_no bigint NOT NULL,
    part integer NOT NULL,
    parts integer NOT NULL,
    index_oid oid NOT NULL,
    position bigint NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    data bytea NOT NULL,
    PRIMARY KEY (log_id, snapshot_no, part)
);
-- Graph bytes barely compress; storing them as they are saves the CPU.
ALTER TABLE lhv_snapshot ALTER COLUMN data SET STORAGE EXTERNAL;
REVOKE ALL ON lhv_snapshot FROM PUBLIC;

-- Writes a snapshot of an lhv index's graph now, in this transaction; returns
-- its size in bytes (0 when the index holds no vector). The index's owner only.
CREATE FUNCTION lhv_snapshot(index regclass) RETURNS bigint
    AS 'MODULE_PATHNAME', 'lhv_snapshot'
    LANGUAGE C STRICT VOLATILE;

-- The lhv indexes of this database whose graphs are in shared memory: how the
-- graph was made (build, snapshot, log, table), its elements and memory, the
-- log position it holds, the log end, and the position of its latest snapshot.
CREATE FUNCTION lhv_index_status(
    OUT index regclass,
    OUT state text,
    OUT source text,
    OUT elements bigint,
    OUT deleted bigint,
    OUT graph_bytes bigint,
    OUT log_id text,
    OUT applied_position bigint,
    OUT log_end bigint,
    OUT snapshot_position bigint,
    OUT snapshot_due boolean)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'lhv_index_status'
    LANGUAGE C STRICT VOLATILE;

CREATE VIEW lhv_indexes AS
    SELECT *, log_end - snapshot_position AS log_since_snapshot FROM lhv_index_status();

-- An lhv index's metapage: its log's identity and bounds (positions are byte
-- offsets in the log), pages, and the snapshot position the log was reclaimed to.
CREATE FUNCTION lhv_index_storage(
    index regclass,
    OUT log_id text,
    OUT dimension integer,
    OUT log_start bigint,
    OUT log_end bigint,
    OUT log_bytes bigint,
    OUT log_pages bigint,
    OUT free_pages bigint,
    OUT snapshot_position bigint,
    OUT relation_pages bigint)
    RETURNS record
    AS 'MODULE_PATHNAME', 'lhv_index_storage'
    LANGUAGE C STRICT VOLATILE;

-- Distance operators on real[], usable with or without an index. Each
-- computes in double precision over the exact inputs.
CREATE FUNCTION lhv_l2_distance(real[], real[]) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhv_l2_distance(real[], real[]) IS 'Euclidean distance';

CREATE FUNCTION lhv_cosine_distance(real[], real[]) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhv_cosine_distance(real[], real[]) IS '1 - cosine similarity';

CREATE FUNCTION lhv_negative_inner_product(real[], real[]) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhv_negative_inner_product(real[], real[]) IS 'negative inner product';

CREATE OPERATOR <-> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = lhv_l2_distance, COMMUTATOR = '<->'
);
CREATE OPERATOR <=> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = lhv_cosine_distance, COMMUTATOR = '<=>'
);
CREATE OPERATOR <#> (
    LEFTARG = real[], RIGHTARG = real[], FUNCTION = lhv_negative_inner_product, COMMUTATOR = '<#>'
);

-- The access method.
CREATE FUNCTION lhv_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE ACCESS METHOD lhv TYPE INDEX HANDLER lhv_handler;
COMMENT ON ACCESS METHOD lhv IS 'HNSW graph in shared memory for ORDER BY distance LIMIT k';

-- Support function 1 of each operator class tells the index its metric.
CREATE FUNCTION lhv_l2_metric(internal) RETURNS int4
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhv_ip_metric(internal) RETURNS int4
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhv_cosine_metric(internal) RETURNS int4
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS lhv_l2_ops FOR TYPE real[] USING lhv AS
    OPERATOR 1 <-> (real[], real[]) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_l2_metric(internal);
CREATE OPERATOR CLASS lhv_ip_ops FOR TYPE real[] USING lhv AS
    OPERATOR 1 <#> (real[], real[]) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_ip_metric(internal);
CREATE OPERATOR CLASS lhv_cosine_ops FOR TYPE real[] USING lhv AS
    OPERATOR 1 <=> (real[], real[]) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_cosine_metric(internal);

-- ==== The lhvector type ====
-- lhv's own vector type: pgvector's text ('[1,2,3]') and binary formats and
-- pgvector's in-memory layout (so lhv reads it and pgvector's vector alike),
-- a dimension typmod (lhvector(784)), casts from and to arrays, the distance
-- operators and lhv operator classes. Its name cannot clash with pgvector's
-- types (vector, halfvec, sparsevec) when both extensions are installed.

CREATE TYPE lhvector;

CREATE FUNCTION lhvector_in(cstring, oid, integer) RETURNS lhvector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_out(lhvector) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_recv(internal, oid, integer) RETURNS lhvector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_send(lhvector) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_typmod_in(cstring[]) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_typmod_out(integer) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE EXTERNAL, as pgvector's vector: never compressed (vectors barely
-- compress, and a failed attempt costs about as much as the write), moved
-- out of line only when a row passes 2 KB. For up to 2,000 dimensions a
-- column with SET STORAGE PLAIN is cheaper still, to write and to read back
-- (no TOAST fetch per returned row): bench/storage.py measured all four
-- (README.md, "Storage"). PLAIN cannot be the type's default: a type stored
-- PLAIN can never be toasted, so rows above a page could not be stored.
CREATE TYPE lhvector (
    INPUT = lhvector_in,
    OUTPUT = lhvector_out,
    RECEIVE = lhvector_recv,
    SEND = lhvector_send,
    TYPMOD_IN = lhvector_typmod_in,
    TYPMOD_OUT = lhvector_typmod_out,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = external
);
COMMENT ON TYPE lhvector IS 'single-precision vector of 1 to 16000 dimensions (lhv)';

CREATE FUNCTION lhvector_dims(lhvector) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhvector_dims(lhvector) IS 'number of dimensions';

-- The typmod: a value stored into lhvector(n) must have n dimensions.
CREATE FUNCTION lhvector(lhvector, integer, boolean) RETURNS lhvector
    AS 'MODULE_PATHNAME', 'lhvector_apply_typmod' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (lhvector AS lhvector) WITH FUNCTION lhvector(lhvector, integer, boolean) AS IMPLICIT;

-- Casts from the arrays applications hold vectors in, and back. Assignment
-- casts: INSERT and UPDATE convert by themselves, expressions say ::lhvector.
CREATE FUNCTION lhvector(real[], integer, boolean) RETURNS lhvector
    AS 'MODULE_PATHNAME', 'lhvector_from_real_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector(double precision[], integer, boolean) RETURNS lhvector
    AS 'MODULE_PATHNAME', 'lhvector_from_double_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector(numeric[], integer, boolean) RETURNS lhvector
    AS 'MODULE_PATHNAME', 'lhvector_from_numeric_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector(integer[], integer, boolean) RETURNS lhvector
    AS 'MODULE_PATHNAME', 'lhvector_from_integer_array' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_to_real_array(lhvector) RETURNS real[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_to_double_array(lhvector) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_to_numeric_array(lhvector) RETURNS numeric[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_to_integer_array(lhvector) RETURNS integer[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (real[] AS lhvector) WITH FUNCTION lhvector(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS lhvector)
    WITH FUNCTION lhvector(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS lhvector) WITH FUNCTION lhvector(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (integer[] AS lhvector) WITH FUNCTION lhvector(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (lhvector AS real[]) WITH FUNCTION lhvector_to_real_array(lhvector) AS ASSIGNMENT;
CREATE CAST (lhvector AS double precision[])
    WITH FUNCTION lhvector_to_double_array(lhvector) AS ASSIGNMENT;
CREATE CAST (lhvector AS numeric[]) WITH FUNCTION lhvector_to_numeric_array(lhvector) AS ASSIGNMENT;
CREATE CAST (lhvector AS integer[]) WITH FUNCTION lhvector_to_integer_array(lhvector) AS ASSIGNMENT;

-- Distance operators on lhvector, as on real[] (double precision over the
-- exact components), plus <+> (L1), which no lhv index serves. The functions
-- have names of their own: overloading lhv_l2_distance and the others would
-- make a call with two untyped literals ambiguous.
CREATE FUNCTION lhvector_l2_distance(lhvector, lhvector) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhvector_l2_distance(lhvector, lhvector) IS 'Euclidean distance';
CREATE FUNCTION lhvector_cosine_distance(lhvector, lhvector) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhvector_cosine_distance(lhvector, lhvector) IS '1 - cosine similarity';
CREATE FUNCTION lhvector_negative_inner_product(lhvector, lhvector) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhvector_negative_inner_product(lhvector, lhvector) IS 'negative inner product';
CREATE FUNCTION lhvector_l1_distance(lhvector, lhvector) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhvector_l1_distance(lhvector, lhvector) IS 'taxicab distance';

CREATE OPERATOR <-> (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_l2_distance, COMMUTATOR = '<->'
);
CREATE OPERATOR <=> (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_cosine_distance, COMMUTATOR = '<=>'
);
CREATE OPERATOR <#> (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_negative_inner_product, COMMUTATOR = '<#>'
);
CREATE OPERATOR <+> (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_l1_distance, COMMUTATOR = '<+>'
);

CREATE OPERATOR CLASS lhvector_l2_ops FOR TYPE lhvector USING lhv AS
    OPERATOR 1 <-> (lhvector, lhvector) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_l2_metric(internal);
CREATE OPERATOR CLASS lhvector_ip_ops FOR TYPE lhvector USING lhv AS
    OPERATOR 1 <#> (lhvector, lhvector) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_ip_metric(internal);
CREATE OPERATOR CLASS lhvector_cosine_ops FOR TYPE lhvector USING lhv AS
    OPERATOR 1 <=> (lhvector, lhvector) FOR ORDER BY float_ops,
    FUNCTION 1 lhv_cosine_metric(internal);

-- Equality, order and hashing (lhvector_compare.cpp): =, UNIQUE, DISTINCT,
-- GROUP BY, UNION, ORDER BY v, merge and hash joins. The order is pgvector's:
-- component by component, then the shorter vector first.
CREATE FUNCTION lhvector_eq(lhvector, lhvector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_ne(lhvector, lhvector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_lt(lhvector, lhvector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_le(lhvector, lhvector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_gt(lhvector, lhvector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_ge(lhvector, lhvector) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_cmp(lhvector, lhvector) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_hash(lhvector) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_hash_extended(lhvector, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR = (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_eq,
    COMMUTATOR = '=', NEGATOR = '<>', RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR <> (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_ne,
    COMMUTATOR = '<>', NEGATOR = '=', RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR < (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_lt,
    COMMUTATOR = '>', NEGATOR = '>=', RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR <= (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_le,
    COMMUTATOR = '>=', NEGATOR = '>', RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR > (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_gt,
    COMMUTATOR = '<', NEGATOR = '<=', RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR >= (
    LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_ge,
    COMMUTATOR = '<=', NEGATOR = '<', RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS lhvector_ops DEFAULT FOR TYPE lhvector USING btree AS
    OPERATOR 1 <,
    OPERATOR 2 <=,
    OPERATOR 3 =,
    OPERATOR 4 >=,
    OPERATOR 5 >,
    FUNCTION 1 lhvector_cmp(lhvector, lhvector);
CREATE OPERATOR CLASS lhvector_ops DEFAULT FOR TYPE lhvector USING hash AS
    OPERATOR 1 =,
    FUNCTION 1 lhvector_hash(lhvector),
    FUNCTION 2 lhvector_hash_extended(lhvector, bigint);

-- What pgvector users compute besides distances (lhvector_math.cpp): the
-- norm, L2 normalisation, element-wise + and -, and sum() and avg()
-- (centroids), whose double precision[] state {count, sums...} combines
-- across parallel workers.
CREATE FUNCTION lhvector_norm(lhvector) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhvector_norm(lhvector) IS 'Euclidean norm';
CREATE FUNCTION lhvector_normalize(lhvector) RETURNS lhvector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lhvector_normalize(lhvector) IS 'the vector scaled to norm 1 (a zero vector stays zero)';
CREATE FUNCTION lhvector_add(lhvector, lhvector) RETURNS lhvector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_subtract(lhvector, lhvector) RETURNS lhvector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR + (LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_add, COMMUTATOR = '+');
CREATE OPERATOR - (LEFTARG = lhvector, RIGHTARG = lhvector, FUNCTION = lhvector_subtract);

CREATE FUNCTION lhvector_accumulate(double precision[], lhvector) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_combine(double precision[], double precision[]) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_sum_final(double precision[]) RETURNS lhvector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lhvector_avg_final(double precision[]) RETURNS lhvector
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE AGGREGATE sum(lhvector) (
    SFUNC = lhvector_accumulate, STYPE = double precision[], INITCOND = '{0}',
    FINALFUNC = lhvector_sum_final, COMBINEFUNC = lhvector_combine, PARALLEL = SAFE
);
CREATE AGGREGATE avg(lhvector) (
    SFUNC = lhvector_accumulate, STYPE = double precision[], INITCOND = '{0}',
    FINALFUNC = lhvector_avg_final, COMBINEFUNC = lhvector_combine, PARALLEL = SAFE
);

-- ==== Named indexes ====
-- The API of a small vector service: named indexes with string ids, a vector
-- and optional JSON metadata per id. A named index is an ordinary table
-- lhv_data."<name>" (id text PRIMARY KEY, embedding real[], metadata jsonb;
-- embedding never compressed: STORAGE PLAIN up to 1,900 dimensions, EXTERNAL
-- above) with an lhv index on embedding, owned by the role that created it, plus a
-- row in the catalog table lhv_named_indexes. So transactions, savepoints,
-- privileges (GRANT on the table), WAL, replication and pg_dump are
-- PostgreSQL's own.
--
-- Security: every function runs as its caller (no SECURITY DEFINER function
-- touches a data table), with search_path = pg_catalog, pg_temp and every
-- object of the extension schema-qualified, operators too (lhv_search,
-- lhv_get, lhv_delete and lhv_add of one item are C, with no SET clause:
-- every name in their statements is qualified). Only lhv_create
-- (C) briefly acts as the extension's owner, to create the table in
-- lhv_data (where no ordinary role may create anything) and write the
-- catalog row; it then gives the table to the caller. The drop event
-- trigger below (SECURITY DEFINER) only deletes the catalog rows of tables
-- that the dropping statement itself removed.

CREATE SCHEMA lhv_data;
COMMENT ON SCHEMA lhv_data IS 'data tables of lhv named indexes (see lhv_info)';
GRANT USAGE ON SCHEMA lhv_data TO PUBLIC;

-- The catalog: one row per named index. Readable by everyone (as pg_class
-- is); written only by the extension's owner (through lhv_create and the
-- drop trigger). Dumped by pg_dump, as the data tables are.
CREATE TABLE @extschema@.lhv_named_indexes (
    name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,63}$'),
    dimension integer NOT NULL CHECK (dimension BETWEEN 1 AND 16000),
    distance text NOT NULL CHECK (distance IN ('cosine', 'euclidean', 'inner_product')),
    m integer NOT NULL CHECK (m BETWEEN 2 AND 100),
    ef_search integer NOT NULL CHECK (ef_search BETWEEN 1 AND 1000),
    ef_construction integer NOT NULL CHECK (ef_construction BETWEEN 4 AND 1000),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.lhv_named_indexes IS 'lhv named indexes: name, parameters (data in lhv_data."<name>")';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.lhv_named_indexes', '');
REVOKE ALL ON @extschema@.lhv_named_indexes FROM PUBLIC;
GRANT SELECT ON @extschema@.lhv_named_indexes TO PUBLIC;

-- Checks a vector or query (any array of numbers) against an index's
-- dimension and distance and returns it as real[]. Internal.
CREATE FUNCTION @extschema@.lhv_named_vector(v anyarray, dimension integer, cosine boolean, what text)
    RETURNS real[]
    AS 'MODULE_PATHNAME', 'lhv_named_vector'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Checks a whole batch for lhv_add and returns one row per distinct id.
-- Internal.
CREATE FUNCTION @extschema@.lhv_named_batch(items jsonb, dimension integer, cosine boolean)
    RETURNS TABLE(id text, embedding real[], metadata jsonb)
    AS 'MODULE_PATHNAME', 'lhv_named_batch'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- The catalog row of a named index: 42704 if there is none. Internal.
CREATE FUNCTION @extschema@.lhv_named_lookup(name text)
    RETURNS @extschema@.lhv_named_indexes
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c @extschema@.lhv_named_indexes;
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'named index name must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO c FROM @extschema@.lhv_named_indexes n WHERE n.name = $1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'named index "%" does not exist', $1 USING ERRCODE = '42704';
    END IF;
    RETURN c;
END
$fn$;

-- Creates a named index owned by the calling role. 42710 if the name is
-- taken; 22023 for a bad name or parameter.
CREATE FUNCTION @extschema@.lhv_create(
    name text,
    dimension integer,
    distance text DEFAULT 'cosine',
    m integer DEFAULT 16,
    ef_search integer DEFAULT 20,
    ef_construction integer DEFAULT 64)
    RETURNS void
    AS 'MODULE_PATHNAME', 'lhv_create'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;

-- Describes a named index; count needs SELECT on its table.
CREATE FUNCTION @extschema@.lhv_info(index_name text)
    RETURNS TABLE(name text, dimension integer, distance text, m integer, ef_search integer,
                  ef_construction integer, count bigint, owner name, data_table regclass,
                  created_at timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c @extschema@.lhv_named_indexes;
    rel regclass;
    n bigint;
BEGIN
    c := @extschema@.lhv_named_lookup($1);
    rel := pg_catalog.to_regclass(pg_catalog.format('lhv_data.%I', c.name));
    EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM lhv_data.%I', c.name) INTO n;
    RETURN QUERY
    SELECT c.name, c.dimension, c.distance, c.m, c.ef_search, c.ef_construction, n,
           (SELECT r.rolname FROM pg_catalog.pg_roles r JOIN pg_catalog.pg_class t ON t.relowner = r.oid
            WHERE t.oid = rel),
           rel, c.created_at;
END
$fn$;

-- Every named index the caller may read (SELECT on its table), by name.
CREATE FUNCTION @extschema@.lhv_list()
    RETURNS TABLE(name text, dimension integer, distance text, m integer, ef_search integer,
                  ef_construction integer, count bigint, owner name, data_table regclass,
                  created_at timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    index_name text;
BEGIN
    FOR index_name IN
        SELECT n.name FROM @extschema@.lhv_named_indexes n
        WHERE pg_catalog.has_table_privilege(
                  pg_catalog.to_regclass(pg_catalog.format('lhv_data.%I', n.name)), 'SELECT')
        ORDER BY n.name COLLATE "C"
    LOOP
        RETURN QUERY SELECT * FROM @extschema@.lhv_info(index_name);
    END LOOP;
END
$fn$;

-- Adds or replaces one item. NULL (or JSON null) metadata keeps what is
-- stored; '{}' replaces it. Returns true if the id was new. In C
-- (named_items.cpp), like lhv_get and lhv_delete: the statements are prepared
-- once per backend and every name in them is schema-qualified.
CREATE FUNCTION @extschema@.lhv_add(name text, id text, vector anyarray, metadata jsonb DEFAULT NULL)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'lhv_named_add'
    LANGUAGE C VOLATILE;

-- The same with the vector as text: an array literal ('{1,2,3}') or
-- pgvector's and lhvector's format ('[1,2,3]').
CREATE FUNCTION @extschema@.lhv_vector_from_text(vector text)
    RETURNS real[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN pg_catalog.ltrim($1, E' \t\n\r\v\f') LIKE '[%' THEN $1::@extschema@.lhvector::real[] ELSE $1::real[] END;
$fn$;
COMMENT ON FUNCTION @extschema@.lhv_vector_from_text(text) IS
    'internal: a vector that lhv_add or lhv_search got as text, {1,2,3} or [1,2,3]';

CREATE FUNCTION @extschema@.lhv_add(name text, id text, vector text, metadata jsonb DEFAULT NULL)
    RETURNS boolean
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT @extschema@.lhv_add($1, $2, @extschema@.lhv_vector_from_text($3), $4);
$fn$;

-- The same with the vector as an lhvector.
CREATE FUNCTION @extschema@.lhv_add(name text, id text, vector @extschema@.lhvector, metadata jsonb DEFAULT NULL)
    RETURNS boolean
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT @extschema@.lhv_add($1, $2, $3::real[], $4);
$fn$;

-- Adds or replaces a batch, a JSON array of {"id", "vector", "metadata"}:
-- every item is checked before anything is stored; an id given twice ends
-- with its last vector and its last non-null metadata. Returns the number
-- of ids stored.
CREATE FUNCTION @extschema@.lhv_add(name text, items jsonb)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c @extschema@.lhv_named_indexes;
    n integer;
BEGIN
    c := @extschema@.lhv_named_lookup($1);
    EXECUTE pg_catalog.format(
        'INSERT INTO lhv_data.%I AS t (id, embedding, metadata) '
        'SELECT b.id, b.embedding, b.metadata FROM @extschema@.lhv_named_batch($1, $2, $3) b '
        'ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, '
        'metadata = COALESCE(EXCLUDED.metadata, t.metadata)', c.name)
        USING $2, c.dimension, c.distance = 'cosine';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$fn$;

-- The k nearest items, nearest first: exactly k rows when the index holds
-- at least k. ef_search overrides the index's for this call. In C
-- (named_search.cpp): the same statements as the functions around it, but
-- prepared once per backend, so a search parses and plans nothing; every
-- name in them is schema-qualified, so search_path plays no part.
CREATE FUNCTION @extschema@.lhv_search(name text, query anyarray, k integer DEFAULT 10,
                                       ef_search integer DEFAULT NULL)
    RETURNS TABLE(id text, distance double precision, metadata jsonb)
    AS 'MODULE_PATHNAME', 'lhv_named_search'
    LANGUAGE C STABLE;

-- The same with the query as text: '{1,2,3}' or '[1,2,3]'.
CREATE FUNCTION @extschema@.lhv_search(name text, query text, k integer DEFAULT 10,
                                       ef_search integer DEFAULT NULL)
    RETURNS TABLE(id text, distance double precision, metadata jsonb)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT * FROM @extschema@.lhv_search($1, @extschema@.lhv_vector_from_text($2), $3, $4);
$fn$;

-- The same with the query as an lhvector.
CREATE FUNCTION @extschema@.lhv_search(name text, query @extschema@.lhvector, k integer DEFAULT 10,
                                       ef_search integer DEFAULT NULL)
    RETURNS TABLE(id text, distance double precision, metadata jsonb)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT * FROM @extschema@.lhv_search($1, $2::real[], $3, $4);
$fn$;

-- An item's vector and metadata, or no row if the id is absent.
CREATE FUNCTION @extschema@.lhv_get(name text, id text)
    RETURNS TABLE(vector real[], metadata jsonb)
    AS 'MODULE_PATHNAME', 'lhv_named_get'
    LANGUAGE C STABLE;

-- Deletes an item; false if the id was absent.
CREATE FUNCTION @extschema@.lhv_delete(name text, id text)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'lhv_named_delete'
    LANGUAGE C VOLATILE;

-- Drops a named index (its table; the event trigger below removes the
-- catalog row). Only its owner may; 42704 if there is none.
CREATE FUNCTION @extschema@.lhv_drop(name text)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    c @extschema@.lhv_named_indexes;
BEGIN
    c := @extschema@.lhv_named_lookup($1);
    EXECUTE pg_catalog.format('DROP TABLE lhv_data.%I', c.name);
    RETURN true;
END
$fn$;

-- A named index as LHV1 bytes: "LHV1", the envelope's length (u32
-- big-endian), a JSON envelope {"version", "params", "metadata": {id:
-- metadata}, "labels": {"<graph label>": id}, "vectors": {...}} and graph
-- bytes that stock hnswlib loads (space "l2", "ip" or "cosine", as
-- params.distance says). The rows the caller sees, so SELECT on the table is
-- needed. In C (named_export.cpp).
CREATE FUNCTION @extschema@.lhv_export(name text)
    RETURNS bytea
    AS 'MODULE_PATHNAME', 'lhv_export'
    LANGUAGE C STABLE
    SET search_path = pg_catalog, pg_temp;

-- Creates a named index, owned by the calling role, from LHV1 bytes (from
-- lhv_export, or an hnswlib index behind an envelope) without rebuilding
-- their graph; returns the number of items. 42710 if the name is taken; a
-- class 22 error, and nothing created, for malformed bytes. In C
-- (named_import.cpp), creating as lhv_create does.
CREATE FUNCTION @extschema@.lhv_import(name text, snapshot bytea)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'lhv_import'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, pg_temp;

-- Keeps the catalog in step with the tables: when a statement drops a
-- table of lhv_data (lhv_drop, DROP TABLE, DROP OWNED), its catalog row goes
-- with it, in the same transaction.
CREATE FUNCTION @extschema@.lhv_named_on_drop()
    RETURNS event_trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    DELETE FROM @extschema@.lhv_named_indexes n
    USING pg_catalog.pg_event_trigger_dropped_objects() o
    WHERE o.object_type = 'table' AND o.schema_name = 'lhv_data' AND o.object_name = n.name;
END
$fn$;
REVOKE ALL ON FUNCTION @extschema@.lhv_named_on_drop() FROM PUBLIC;
CREATE EVENT TRIGGER lhv_named_on_drop ON sql_drop
    EXECUTE FUNCTION @extschema@.lhv_named_on_drop();
