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
