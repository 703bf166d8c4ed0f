-- init.sql: the extension installs, drops and re-creates cleanly; its version
-- matches lhv.control; the GUCs have their defaults and the lhv. prefix is
-- reserved; lhv_memory describes an empty area.

-- pg_regress --load-extension created it; drop it and create it again.
DROP EXTENSION lhv;
SELECT count(*) AS lhv_functions_left FROM pg_proc WHERE proname LIKE 'lhv\_%';
CREATE EXTENSION lhv;

-- The version compiled in is the control file's.
SELECT lhv_version() = default_version AS version_matches_control,
       installed_version = default_version AS installed_is_default
FROM pg_available_extensions WHERE name = 'lhv';

SELECT lhv_simd() IN ('avx512', 'avx2', 'scalar') AS simd_known;

-- Objects of the extension.
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'lhv')
ORDER BY 1;

SELECT p.proname, p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p WHERE p.proname LIKE 'lhv\_%' ORDER BY 1;

-- GUCs: defaults, units, context.
SHOW lhv.shared_memory_reserved;
SHOW lhv.max_shared_memory;
SHOW lhv.max_indexes;
SELECT name, setting, unit, context, min_val, max_val
FROM pg_settings WHERE name LIKE 'lhv.%' ORDER BY name;

-- Postmaster-only settings cannot change in a session.
SET lhv.max_shared_memory = '2GB';

-- The prefix is reserved: a misspelt lhv setting is an error, not a placeholder.
SET lhv.foo = 1;
SET lhv.max_index = 10;

-- The shared memory area: 64 MB reserved by default, capped at 1 GB, no graphs.
SELECT reserved_bytes = 64 * 1024 * 1024 AS reserved_is_64mb,
       limit_bytes = 1024 * 1024 * 1024 AS limit_is_1gb,
       total_bytes IS NULL OR total_bytes BETWEEN reserved_bytes AND limit_bytes AS total_in_range,
       graph_bytes, indexes
FROM lhv_memory;
SELECT * FROM lhv_memory();

-- STRICT: NULL in, NULL out.
SELECT lhv_snapshot_info(NULL) IS NULL AS null_in_null_out;
