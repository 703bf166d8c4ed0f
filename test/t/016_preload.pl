# 016_preload.pl: with lhv.preload (on by default) a worker loads the graph of
# every lhv index of every database when the server starts, so the first
# query finds it in memory.
#
# What is asserted:
# - after a clean restart and after an immediate shutdown, every graph of two
#   databases is Ready, from its snapshot (or its log: an index created
#   empty), before any query touches it, and answers are identical (ids,
#   order, distances); snapshots are cut into many small parts here
#   (lhv.snapshot_part_size), so loads read views that straddle parts;
# - the server log reports each database's preload, and a database without
#   lhv is no trouble;
# - a snapshot made unusable: the worker logs the WARNING and rebuilds the
#   graph from its table, so the query that follows sees no WARNING;
# - a query sent while the preload runs answers correctly (it waits for the
#   load under way or makes its own);
# - after a backend crash re-initialised shared memory, nothing is preloaded
#   (graphs load at first access), so a graph that crashed the server cannot
#   crash it again and again;
# - lhv.preload = off: no graph in memory after a restart until first access;
# - a streaming hot standby preloads too, from the replicated snapshots.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $DIM = 6;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
restart_after_crash = on
lhv.snapshot_part_size = 24kB
});
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE other; CREATE DATABASE plain;');
for my $db ('postgres', 'other')
{
	$node->safe_psql($db, qq{
CREATE EXTENSION lhv;
CREATE TABLE t (id int PRIMARY KEY, v real[] NOT NULL);
SELECT setseed(0.25);
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, 3000) i;
CREATE INDEX t_l2 ON t USING lhv (v lhv_l2_ops);
CREATE INDEX t_cos ON t USING lhv (v lhv_cosine_ops);
CREATE TABLE q (qid int PRIMARY KEY, v real[] NOT NULL);
INSERT INTO q SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, 10) i;
});
}
# An index created empty: its graph comes back from the log alone.
$node->safe_psql('postgres', qq{
CREATE TABLE e (id int PRIMARY KEY, v real[] NOT NULL);
CREATE INDEX e_l2 ON e USING lhv (v lhv_l2_ops);
INSERT INTO e SELECT i, ARRAY[i, 1, 0, 0, 0, 0]::real[] FROM generate_series(1, 50) i;
});
cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM lhv_snapshot WHERE index_oid = 't_l2'::regclass"),
	'>', 5, 'the snapshot of t_l2 is cut into many parts');

# Top-10 ids and distances of every query, through the index.
sub answers
{
	my ($db, $op) = @_;
	return $node->safe_psql($db, qq{
SET lhv.ef_search = 200; SET enable_seqscan = off;
SELECT q.qid, s.id, s.d FROM q, LATERAL (
  SELECT id, v $op q.v AS d FROM t ORDER BY v $op q.v LIMIT 10) s ORDER BY q.qid, s.d, s.id;});
}

# The graphs in memory of a database: "index:state:source" lines.
sub graphs
{
	my ($db) = @_;
	return $node->safe_psql($db, "SELECT string_agg(index::text || ':' || state || ':' || source, ' ' ORDER BY index::text) FROM lhv_indexes");
}

my %before;
for my $db ('postgres', 'other')
{
	$before{"$db <->"} = answers($db, '<->');
	$before{"$db <=>"} = answers($db, '<=>');
}

# Waits until every graph of both databases is loaded, without touching any
# index, and checks what is there.
sub check_preloaded
{
	my ($what) = @_;
	ok( $node->poll_query_until('postgres', "SELECT count(*) = 3 FROM lhv_indexes WHERE state = 'ready'")
		  && $node->poll_query_until('other', "SELECT count(*) = 2 FROM lhv_indexes WHERE state = 'ready'"),
		"$what: every graph is loaded without a query");
	is(graphs('postgres'), 'e_l2:ready:log t_cos:ready:snapshot t_l2:ready:snapshot',
		"$what: the graphs of database postgres came from their snapshots and log");
	is(graphs('other'), 't_cos:ready:snapshot t_l2:ready:snapshot',
		"$what: the graphs of database other too");
	for my $key (sort keys %before)
	{
		my ($db, $op) = split / /, $key;
		is(answers($db, $op), $before{$key}, "$what: $db, $op: same ids, order and distances");
	}
}

$node->restart;
check_preloaded('after a clean restart');
my $log = slurp_file($node->logfile);
like($log, qr/preloaded the graphs of 3 of 3 lhv indexes in database "postgres"/, 'the log reports the preload of postgres');
like($log, qr/preloaded the graphs of 2 of 2 lhv indexes in database "other"/, 'and of other');
unlike($log, qr/database "plain"/, 'a database without lhv is passed over quietly');

$node->stop('immediate');
$node->start;
check_preloaded('after an immediate shutdown');

# A query sent right at start answers correctly whoever loads the graph.
$node->restart;
is(answers('postgres', '<->'), $before{'postgres <->'}, 'a query sent while the preload runs answers as before');

# A corrupt snapshot: the worker rebuilds from the table and logs why.
$node->safe_psql('other', qq{
UPDATE lhv_snapshot SET data = overlay(data PLACING '\\xdeadbeefdeadbeefdeadbeef'::bytea FROM 40)
WHERE index_oid = 't_l2'::regclass AND part = 0;});
my $offset = -s $node->logfile;
$node->restart;
ok($node->poll_query_until('other', "SELECT count(*) = 2 FROM lhv_indexes WHERE state = 'ready'"),
	'with a corrupt snapshot the graphs are still preloaded');
is(graphs('other'), 't_cos:ready:snapshot t_l2:ready:table', 'the corrupt one rebuilt from its table');
my ($ret, $stdout, $stderr) = $node->psql('other', 'SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 5) s');
is($stdout . '|' . $stderr, '5|', 'the query that follows answers without a WARNING');
like(slurp_file($node->logfile, $offset), qr/WARNING:.*snapshot of index "t_l2" is unusable/,
	'the server log has the WARNING naming the index');
is(answers('other', '<->'), $before{'other <->'}, 'and the rebuilt graph answers as before at ef_search 200');
$node->safe_psql('other', "SELECT lhv_snapshot('t_l2')");

# A backend crash re-initialises shared memory: no preload then.
my $session = $node->background_psql('postgres');
my $victim = $session->query_safe('SELECT pg_backend_pid()');
kill 'KILL', $victim;
$session->quit;
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back after the crash';
sleep 2;  # room for a preload, had one started
is($node->safe_psql('postgres', 'SELECT indexes FROM lhv_memory'), '0',
	'after a crash re-initialised shared memory nothing is preloaded');
is(answers('postgres', '<->'), $before{'postgres <->'}, 'the first access loads the graph and answers as before');
is(graphs('postgres'), 't_l2:ready:snapshot', 'only the graph used is in memory');

# lhv.preload = off.
$node->append_conf('postgresql.conf', 'lhv.preload = off');
$node->restart;
sleep 2;
is($node->safe_psql('postgres', 'SELECT indexes FROM lhv_memory'), '0', 'lhv.preload = off: no graph after a restart');
is(answers('postgres', '<=>'), $before{'postgres <=>'}, 'lhv.preload = off: the first access loads it');
$node->append_conf('postgresql.conf', 'lhv.preload = on');
$node->restart;

# A streaming hot standby preloads from the snapshots replay brought.
$node->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'backup', has_streaming => 1);
$standby->start;
$node->wait_for_catchup($standby, 'replay');
ok($standby->poll_query_until('other', "SELECT count(*) = 2 FROM lhv_indexes WHERE state = 'ready'"),
	'the standby preloads its graphs');
is($standby->safe_psql('other', qq{
SET lhv.ef_search = 200; SET enable_seqscan = off;
SELECT q.qid, s.id, s.d FROM q, LATERAL (
  SELECT id, v <-> q.v AS d FROM t ORDER BY v <-> q.v LIMIT 10) s ORDER BY q.qid, s.d, s.id;}),
	$before{'other <->'}, 'and answers like the primary did');

# Nothing unexpected in the logs: the WARNING above and the crash only.
for my $n ($node, $standby)
{
	my @bad = grep {
		!/snapshot of index "t_l2" is unusable|no usable snapshot; rebuilding it|the database system is (starting up|in recovery mode|shutting down|not yet accepting connections)|terminating connection due to administrator command/
	  }
	  grep { /\b(ERROR|PANIC|FATAL):|was terminated by signal (?!9)/ }
	  split /\n/, slurp_file($n->logfile);
	is(join("\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]), '', $n->name . ': no unexpected ERROR, FATAL or PANIC in the server log');
}

$standby->stop;
$node->stop;
done_testing();
