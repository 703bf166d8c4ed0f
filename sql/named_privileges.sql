-- named_privileges.sql: a named index belongs to the role that created it;
-- ordinary roles create and use their own; other roles get 42501 until the
-- owner grants them privileges on the index's table; nobody but the
-- extension writes the catalog or creates in lhv_data; and the functions
-- are safe against search_path tricks.
CREATE FUNCTION pg_temp.try(statement text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;

CREATE ROLE regress_lhv_alice;
CREATE ROLE regress_lhv_bob;
CREATE ROLE regress_lhv_mallory;

-- An ordinary role creates and uses its own named index.
SET ROLE regress_lhv_alice;
SELECT lhv_create('alice_docs', 2, 'euclidean');
SELECT lhv_add('alice_docs', '[{"id": "a", "vector": [1, 1], "metadata": {"secret": "alice"}},
                               {"id": "b", "vector": [2, 2]}]');
SELECT lhv_add('alice_docs', 'c', '{3,3}');
SELECT id, distance, metadata FROM lhv_search('alice_docs', '{0,0}', 2);
SELECT * FROM lhv_get('alice_docs', 'a');
SELECT lhv_delete('alice_docs', 'c');
SELECT name, owner, count FROM lhv_info('alice_docs');
SELECT name, owner FROM lhv_list();
-- The table is hers.
SELECT relname, pg_get_userbyid(relowner) AS owner FROM pg_class
WHERE relnamespace = 'lhv_data'::regnamespace AND relkind = 'r';
-- But she cannot create in lhv_data or write the catalog herself.
SELECT pg_temp.try($$CREATE TABLE lhv_data.mine (id int)$$);
SELECT pg_temp.try($$INSERT INTO lhv_named_indexes (name, dimension, distance, m, ef_search, ef_construction)
                     VALUES ('fake', 2, 'cosine', 16, 20, 64)$$);
SELECT pg_temp.try($$UPDATE lhv_named_indexes SET dimension = 3$$);
SELECT pg_temp.try($$DELETE FROM lhv_named_indexes$$);
-- Her own index is hers to drop (and re-create).
SELECT lhv_create('alice_tmp', 2);
SELECT lhv_drop('alice_tmp');
RESET ROLE;

-- Another role: 42501 from every function, and lhv_list does not show it.
SET ROLE regress_lhv_bob;
SELECT pg_temp.try($$SELECT * FROM lhv_search('alice_docs', '{0,0}', 2)$$);
SELECT pg_temp.try($$SELECT * FROM lhv_get('alice_docs', 'a')$$);
SELECT pg_temp.try($$SELECT * FROM lhv_info('alice_docs')$$);
SELECT pg_temp.try($$SELECT lhv_add('alice_docs', 'x', '{9,9}')$$);
SELECT pg_temp.try($$SELECT lhv_add('alice_docs', '[{"id": "x", "vector": [9,9]}]')$$);
SELECT pg_temp.try($$SELECT lhv_delete('alice_docs', 'a')$$);
SELECT pg_temp.try($$SELECT lhv_drop('alice_docs')$$);
SELECT pg_temp.try($$SELECT * FROM lhv_data.alice_docs$$);
SELECT pg_temp.try($$DROP TABLE lhv_data.alice_docs$$);
SELECT count(*) AS visible_to_bob FROM lhv_list();
-- The name is still taken for him.
SELECT pg_temp.try($$SELECT lhv_create('alice_docs', 2)$$);
RESET ROLE;

-- Granting: SELECT lets Bob search, get and describe; INSERT and UPDATE
-- let him add; DELETE lets him delete. Only the owner drops.
SET ROLE regress_lhv_alice;
GRANT SELECT ON lhv_data.alice_docs TO regress_lhv_bob;
SET ROLE regress_lhv_bob;
SELECT id, distance FROM lhv_search('alice_docs', '{0,0}', 2);
SELECT * FROM lhv_get('alice_docs', 'a');
SELECT name, owner, count FROM lhv_info('alice_docs');
SELECT name, owner FROM lhv_list();
SELECT pg_temp.try($$SELECT lhv_add('alice_docs', 'x', '{9,9}')$$);
SELECT pg_temp.try($$SELECT lhv_delete('alice_docs', 'a')$$);
SET ROLE regress_lhv_alice;
GRANT INSERT, UPDATE, DELETE ON lhv_data.alice_docs TO regress_lhv_bob;
SET ROLE regress_lhv_bob;
SELECT lhv_add('alice_docs', 'x', '{9,9}');
SELECT lhv_add('alice_docs', '[{"id": "x", "vector": [8,8]}]');
SELECT lhv_delete('alice_docs', 'x');
SELECT pg_temp.try($$SELECT lhv_drop('alice_docs')$$);
RESET ROLE;
-- Mallory was granted nothing.
SET ROLE regress_lhv_mallory;
SELECT pg_temp.try($$SELECT * FROM lhv_search('alice_docs', '{0,0}', 2)$$);
RESET ROLE;
-- Row-level security on the table applies to lhv_search as to any query.
SET ROLE regress_lhv_alice;
ALTER TABLE lhv_data.alice_docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY not_a ON lhv_data.alice_docs FOR SELECT TO regress_lhv_bob USING (id <> 'a');
SELECT id FROM lhv_search('alice_docs', '{0,0}', 10);
SET ROLE regress_lhv_bob;
SELECT id FROM lhv_search('alice_docs', '{0,0}', 10);
SELECT * FROM lhv_get('alice_docs', 'a');
SET ROLE regress_lhv_alice;
DROP POLICY not_a ON lhv_data.alice_docs;
ALTER TABLE lhv_data.alice_docs DISABLE ROW LEVEL SECURITY;
RESET ROLE;
-- REVOKE takes it back.
SET ROLE regress_lhv_alice;
REVOKE ALL ON lhv_data.alice_docs FROM regress_lhv_bob;
SET ROLE regress_lhv_bob;
SELECT pg_temp.try($$SELECT * FROM lhv_search('alice_docs', '{0,0}', 2)$$);
RESET ROLE;
-- Column privileges: SELECT on the three columns is enough, on fewer the
-- search is refused. (Without SELECT on the whole table, lhv_search runs
-- through SPI instead of scanning the index itself: both give the same
-- answers, compared here with the owner's.)
SET ROLE regress_lhv_alice;
GRANT SELECT (id, embedding, metadata) ON lhv_data.alice_docs TO regress_lhv_bob;
CREATE TEMP TABLE owner_answer AS SELECT * FROM lhv_search('alice_docs', '{0.5,0.5}', 3) WITH ORDINALITY;
GRANT SELECT ON owner_answer TO regress_lhv_bob;
SET ROLE regress_lhv_bob;
SELECT (SELECT array_agg((id, distance, metadata)::text ORDER BY ordinality) FROM owner_answer) =
       (SELECT array_agg((id, distance, metadata)::text ORDER BY ordinality)
          FROM lhv_search('alice_docs', '{0.5,0.5}', 3) WITH ORDINALITY) AS same_answer_through_spi;
SET ROLE regress_lhv_alice;
REVOKE SELECT (metadata) ON lhv_data.alice_docs FROM regress_lhv_bob;
SET ROLE regress_lhv_bob;
SELECT pg_temp.try($$SELECT * FROM lhv_search('alice_docs', '{0,0}', 2)$$);
SET ROLE regress_lhv_alice;
REVOKE ALL ON lhv_data.alice_docs FROM regress_lhv_bob;
DROP TABLE owner_answer;
RESET ROLE;

-- Membership: a member of the owning role uses the index as the owner does.
GRANT regress_lhv_alice TO regress_lhv_bob;
SET ROLE regress_lhv_bob;
SELECT id FROM lhv_search('alice_docs', '{0,0}', 1);
RESET ROLE;
REVOKE regress_lhv_alice FROM regress_lhv_bob;

-- Who may create named indexes at all is the DBA's choice.
REVOKE EXECUTE ON FUNCTION lhv_create(text, integer, text, integer, integer, integer) FROM PUBLIC;
SET ROLE regress_lhv_bob;
SELECT pg_temp.try($$SELECT lhv_create('bob_docs', 2)$$);
RESET ROLE;
GRANT EXECUTE ON FUNCTION lhv_create(text, integer, text, integer, integer, integer) TO PUBLIC;
SET ROLE regress_lhv_bob;
SELECT lhv_create('bob_docs', 2);
SELECT name, owner FROM lhv_info('bob_docs');
RESET ROLE;

-- search_path tricks: Mallory puts look-alikes of what the functions use
-- (format, set_config, jsonb_typeof, to_regclass, =, the catalog table and
-- lookup function, the distance operators) in a schema of hers, and Alice calls
-- the functions with that schema first in her search_path. Nothing of
-- Mallory's runs (each look-alike would raise 'hijacked').
CREATE SCHEMA regress_mallory AUTHORIZATION regress_lhv_mallory;
GRANT USAGE ON SCHEMA regress_mallory TO PUBLIC;
SET ROLE regress_lhv_mallory;
CREATE FUNCTION regress_mallory.hijack() RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'hijacked by mallory'; END $$;
-- Better matches than pg_catalog.format(text, VARIADIC "any").
CREATE FUNCTION regress_mallory.format(text, text) RETURNS text LANGUAGE sql AS
$$ SELECT regress_mallory.hijack() $$;
CREATE FUNCTION regress_mallory.format(text, text, text) RETURNS text LANGUAGE sql AS
$$ SELECT regress_mallory.hijack() $$;
CREATE FUNCTION regress_mallory.set_config(text, text, boolean) RETURNS text LANGUAGE sql AS
$$ SELECT regress_mallory.hijack() $$;
CREATE FUNCTION regress_mallory.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS
$$ SELECT regress_mallory.hijack() $$;
CREATE FUNCTION regress_mallory.to_regclass(text) RETURNS regclass LANGUAGE sql AS
$$ SELECT regress_mallory.hijack()::regclass $$;
CREATE FUNCTION regress_mallory.evil_distance(real[], real[]) RETURNS float8 LANGUAGE sql AS
$$ SELECT regress_mallory.hijack()::float8 $$;
CREATE OPERATOR regress_mallory.<-> (LEFTARG = real[], RIGHTARG = real[], FUNCTION = regress_mallory.evil_distance);
CREATE OPERATOR regress_mallory.<=> (LEFTARG = real[], RIGHTARG = real[], FUNCTION = regress_mallory.evil_distance);
CREATE FUNCTION regress_mallory.evil_eq(text, text) RETURNS boolean LANGUAGE sql AS
$$ SELECT regress_mallory.hijack()::boolean $$;
CREATE OPERATOR regress_mallory.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_mallory.evil_eq);
CREATE TABLE regress_mallory.lhv_named_indexes (name text, dimension int, distance text, m int,
    ef_search int, ef_construction int, created_at timestamptz);
INSERT INTO regress_mallory.lhv_named_indexes VALUES ('alice_docs', 2, 'cosine', 16, 20, 64, now());
GRANT SELECT ON regress_mallory.lhv_named_indexes TO PUBLIC;
CREATE FUNCTION regress_mallory.lhv_named_lookup(text) RETURNS regress_mallory.lhv_named_indexes
    LANGUAGE sql AS $$ SELECT regress_mallory.hijack()::regress_mallory.lhv_named_indexes $$;
RESET ROLE;

SET ROLE regress_lhv_alice;
SET search_path = regress_mallory, public;
-- The look-alikes do catch unqualified calls...
SELECT pg_temp.try($$SELECT format('%s', 'x'::text)$$);
SELECT pg_temp.try($$SELECT '{1,1}'::real[] <-> '{0,0}'::real[]$$);
SELECT pg_temp.try($$SELECT lhv_named_lookup('alice_docs')$$);
-- ...but not the functions'.
SELECT pg_temp.try($$SELECT * FROM public.lhv_search('alice_docs', '{0,0}', 2)$$);
SELECT pg_temp.try($$SELECT * FROM public.lhv_search('alice_docs', ARRAY[0,0], 2)$$);
SELECT pg_temp.try($$SELECT public.lhv_add('alice_docs', 'm', '{5,5}', '{"m": 1}')$$);
SELECT pg_temp.try($$SELECT public.lhv_add('alice_docs', '[{"id": "n", "vector": [6,6]}]')$$);
SELECT pg_temp.try($$SELECT * FROM public.lhv_get('alice_docs', 'm')$$);
SELECT pg_temp.try($$SELECT public.lhv_delete('alice_docs', 'n')$$);
SELECT pg_temp.try($$SELECT * FROM public.lhv_info('alice_docs')$$);
SELECT pg_temp.try($$SELECT * FROM public.lhv_list()$$);
SELECT pg_temp.try($$SELECT public.lhv_create('alice_more', 2)$$);
SELECT pg_temp.try($$SELECT public.lhv_drop('alice_more')$$);
-- A temporary table named like the catalog changes nothing either.
CREATE TEMP TABLE lhv_named_indexes (name text, dimension int, distance text, m int,
    ef_search int, ef_construction int, created_at timestamptz);
INSERT INTO pg_temp.lhv_named_indexes VALUES ('alice_docs', 99, 'cosine', 16, 20, 64, now());
SET search_path = pg_temp, public;
SELECT id, distance FROM public.lhv_search('alice_docs', '{0,0}', 2);
SELECT dimension FROM public.lhv_info('alice_docs');
DROP TABLE pg_temp.lhv_named_indexes;
RESET search_path;
RESET ROLE;

-- Ownership moves with the table, like any table's.
ALTER TABLE lhv_data.bob_docs OWNER TO regress_lhv_alice;
SELECT owner FROM lhv_info('bob_docs');
SET ROLE regress_lhv_bob;
SELECT pg_temp.try($$SELECT lhv_drop('bob_docs')$$);
SET ROLE regress_lhv_alice;
SELECT lhv_drop('bob_docs');
RESET ROLE;

-- DROP OWNED BY removes a role's named indexes with their catalog rows.
SET ROLE regress_lhv_bob;
SELECT lhv_create('bob_again', 2);
RESET ROLE;
DROP OWNED BY regress_lhv_bob;
SELECT name FROM lhv_named_indexes ORDER BY name;

-- A superuser sees and may drop everything.
SELECT name, owner FROM lhv_list();
SELECT lhv_drop('alice_docs');
SET client_min_messages = warning;
DROP SCHEMA regress_mallory CASCADE;
RESET client_min_messages;
DROP ROLE regress_lhv_alice, regress_lhv_bob, regress_lhv_mallory;
SELECT count(*) FROM lhv_named_indexes;
