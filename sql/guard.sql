-- guard.sql: errors from the C++ engine reach SQL with the right SQLSTATE and
-- message, and the session keeps working afterwards. lhv_snapshot_info
-- decodes the envelope of an LHV1 snapshot:
--   [4 bytes "LHV1"][u32 big-endian envelope length][JSON envelope][graph bytes]

-- Calls lhv_snapshot_info and shows the SQLSTATE and message of its error.
CREATE FUNCTION pg_temp.try_info(snapshot bytea) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  RETURN 'ok: ' || lhv_snapshot_info(snapshot)::text;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- Malformed snapshots: SQLSTATE 22P03 (invalid_binary_representation).
SELECT pg_temp.try_info(''::bytea) AS empty;
SELECT pg_temp.try_info('\x4c4856'::bytea) AS short;
SELECT pg_temp.try_info('PK\003\004\000\000\000\002{}'::bytea) AS bad_magic;
-- envelope length 100, but only 2 bytes follow the header
SELECT pg_temp.try_info('LHV1\000\000\000\144{}'::bytea) AS length_past_end;
-- envelope length 0x7fffffff, past the 1 GB limit
SELECT pg_temp.try_info('LHV1\177\377\377\377{}'::bytea) AS length_too_large;
SELECT pg_temp.try_info('LHV1\000\000\000\011'::bytea || convert_to('{"version"', 'UTF8')) AS invalid_json;
SELECT pg_temp.try_info('LHV1\000\000\000\002'::bytea || convert_to('[]', 'UTF8')) AS not_an_object;
SELECT pg_temp.try_info('LHV1\000\000\000\015'::bytea || convert_to('{"version":2}', 'UTF8')) AS unknown_version;

-- The same error as a client sees it.
SELECT lhv_snapshot_info('LHV1'::bytea);

-- The session still works.
SELECT lhv_version() IS NOT NULL AS alive;

-- The SQLSTATE as a program sees it, in plpgsql.
DO $$
BEGIN
  PERFORM lhv_snapshot_info('\x00'::bytea);
EXCEPTION WHEN invalid_binary_representation THEN
  RAISE NOTICE 'caught % (%): %', SQLSTATE, 'invalid_binary_representation', SQLERRM;
END
$$;

-- A failing call inside a savepoint rolls back to it; the transaction goes on.
BEGIN;
SAVEPOINT s;
SELECT lhv_snapshot_info('LHV1'::bytea);
ROLLBACK TO SAVEPOINT s;
SELECT lhv_version() IS NOT NULL AS alive_in_transaction;
COMMIT;

-- Builds an LHV1 snapshot from an envelope (JSON text) and graph bytes.
CREATE FUNCTION pg_temp.lhv1(envelope text, graph bytea DEFAULT ''::bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT convert_to('LHV1', 'UTF8')
      || int4send(octet_length(convert_to(envelope, 'UTF8')))
      || convert_to(envelope, 'UTF8')
      || graph
$$;

-- Params out of range and unknown distances are rejected too.
SELECT lhv_snapshot_info(pg_temp.lhv1(
  '{"version":1,"params":{"name":"a","dimension":0,"m":16,"ef_construction":64,"ef_search":40,"distance":"l2"}}'));
SELECT lhv_snapshot_info(pg_temp.lhv1(
  '{"version":1,"params":{"name":"a","dimension":3,"m":16,"ef_construction":64,"ef_search":40,"distance":"hamming"}}'));
SELECT lhv_snapshot_info(pg_temp.lhv1('{"version":1}'));

-- A valid envelope (the graph bytes are not parsed here, only counted).
SELECT jsonb_pretty(lhv_snapshot_info(pg_temp.lhv1(
  '{"version":1,"params":{"name":"items","dimension":3,"m":16,"ef_construction":64,"ef_search":40,"distance":"cosine"},"metadata":{"owner":"docs","ids":["a","b"]}}',
  '\x00010203'::bytea)));
-- No metadata gives an empty object.
SELECT lhv_snapshot_info(pg_temp.lhv1(
  '{"version":1,"params":{"name":"","dimension":16000,"m":100,"ef_construction":1000,"ef_search":100000,"distance":"ip"}}'));
