# 014_rebuild_as_owner.pl: when an index's graph must be rebuilt from its
# table (its snapshot is unusable), the index expressions run as PostgreSQL's
# index_build runs them, whoever's query triggered the rebuild: as the
# table's owner, under SECURITY_RESTRICTED_OPERATION, and with a search_path
# (pg_catalog, pg_temp) that the querying role cannot point at its own
# schema; the querying session's role and settings are intact afterwards.
#
# The expression index's function refuses to run otherwise: it raises unless
# current_user is the owner and creating a temporary table is refused (a
# restricted operation);
# it also calls array_length unqualified, which the querying role shadows in
# a schema first on its search_path with a function that raises. Before the
# fix, the rebuild ran as the querying role with its search_path, and the
# query failed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('rebuild_owner');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
lhv.snapshot_naptime = 3600
# bob's query must be what triggers the rebuild; the preload at server
# start is checked at the end.
lhv.preload = off
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION lhv;
CREATE ROLE alice LOGIN;
CREATE ROLE bob LOGIN;
CREATE SCHEMA alice AUTHORIZATION alice;
CREATE SCHEMA bob AUTHORIZATION bob;
GRANT USAGE ON SCHEMA alice TO bob;
});

# alice's table, function and expression index (rows first: an INSERT runs
# the expression as the inserting role, outside any restricted operation).
$node->safe_psql('postgres', q{
SET ROLE alice;
CREATE TABLE alice.t (id int, v real[] NOT NULL);
INSERT INTO alice.t SELECT i, ARRAY[i % 17, i % 13, i % 7, i % 5]::real[] FROM generate_series(1, 2000) i;
-- Creating a temporary table is refused inside a security-restricted operation.
CREATE FUNCTION alice.try_temp_table() RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS probe (x int);
END $$;
CREATE FUNCTION alice.guard(v real[]) RETURNS real[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF current_user <> 'alice' THEN
    RAISE EXCEPTION 'index expression ran as %', current_user;
  END IF;
  BEGIN
    PERFORM alice.try_temp_table();
    RAISE EXCEPTION 'index expression ran outside a security-restricted operation';
  EXCEPTION WHEN insufficient_privilege THEN
    NULL;  -- refused, as it must be inside index_build
  END;
  IF array_length(v, 1) <> 4 THEN
    RAISE EXCEPTION 'unexpected vector';
  END IF;
  RETURN v;
END $$;
CREATE INDEX t_guard ON alice.t USING lhv (alice.guard(v) lhv_l2_ops);
GRANT SELECT ON alice.t TO bob;
});

# bob's shadow of array_length, first on his search_path, in a schema
# anyone may use (so that it would be found while running as alice).
$node->safe_psql('postgres', q{
SET ROLE bob;
GRANT USAGE ON SCHEMA bob TO PUBLIC;
CREATE FUNCTION bob.array_length(anyarray, integer) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'bob''s array_length ran as %', current_user;
END $$;
});

# Make the snapshot unusable, so that the next access rebuilds from the table.
$node->safe_psql('postgres', q{
UPDATE lhv_snapshot SET data = overlay(data PLACING '\xdeadbeefdeadbeefdeadbeef'::bytea FROM 40)
WHERE index_oid = 'alice.t_guard'::regclass;});
$node->restart;

# bob's query: every row is filtered out after the scan, so the expression
# is never evaluated by his query itself, only by the rebuild.
my $bob_query = q{
SET search_path = bob, pg_catalog, public;
SET enable_seqscan = off;
SET lhv.max_scan_tuples = 50;
EXPLAIN (COSTS OFF)
  SELECT id FROM alice.t WHERE id < 0 ORDER BY alice.guard(v) <-> '{1,2,3,4}' LIMIT 5;
SELECT 'rows: ' || count(*) FROM (
  SELECT id FROM alice.t WHERE id < 0 ORDER BY alice.guard(v) <-> '{1,2,3,4}' LIMIT 5) s;
SELECT 'after: ' || current_user || ' ' || current_setting('search_path') || ' '
  || current_setting('client_min_messages');
};
my ($ret, $out, $err) = $node->psql('postgres', $bob_query, extra_params => [ '-U', 'bob' ]);
like($out, qr/Index Scan using t_guard/, 'bob\'s query scans the expression index');
like($err, qr/snapshot of index "t_guard" is unusable/, 'the snapshot is unusable');
unlike($err, qr/ERROR/, 'the rebuild triggered by bob succeeds') or diag($err);
like($out, qr/rows: 0/, 'and the query answers');
like($out, qr/after: bob bob, pg_catalog, public notice/, 'bob\'s role and settings are his again afterwards');
is($node->safe_psql('postgres', q{SELECT source || ' ' || elements FROM lhv_indexes WHERE index = 'alice.t_guard'::regclass}),
	'table 2000', 'the graph was rebuilt from the table with every row');

# The preload at server start meets the same unusable snapshot: it rebuilds
# the graph as alice too (bob's shadow is not on its search_path anyway),
# and reports the snapshot in the server log rather than failing.
$node->safe_psql('postgres', q{
UPDATE lhv_snapshot SET data = overlay(data PLACING '\xdeadbeefdeadbeefdeadbeef'::bytea FROM 40)
WHERE index_oid = 'alice.t_guard'::regclass;});
$node->append_conf('postgresql.conf', "lhv.preload = on\n");
my $log_offset = -s $node->logfile;
$node->restart;
$node->poll_query_until('postgres',
	q{SELECT source <> 'none' FROM lhv_indexes WHERE index = 'alice.t_guard'::regclass})
  or die 'the preload did not load t_guard';
is($node->safe_psql('postgres', q{SELECT source || ' ' || elements FROM lhv_indexes WHERE index = 'alice.t_guard'::regclass}),
	'table 2000', 'the preload rebuilt the graph from the table');
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/snapshot of index "t_guard" is unusable/, 'and logged the unusable snapshot');
unlike($log, qr/index expression ran as|ERROR/, 'without an error from the index expression');

$node->stop;
done_testing();
