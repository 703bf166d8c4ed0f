# 006_durability.pl: an lhv graph comes back after a restart or a crash from
# what PostgreSQL made durable (its LHV1 snapshot in lhv_snapshot and the
# change log in the index's own WAL-logged pages), never by re-reading the
# table, and answers as before.
#
# What is asserted:
# - a clean restart right after CREATE INDEX gives identical answers (ids,
#   order and distances: the graph round-trips exactly through LHV1), and the
#   graph was loaded from its snapshot;
# - 20 immediate shutdowns while pgbench inserts, deletes and rolls back:
#   every committed row is found by its own vector (at distance 0), and at
#   high ef_search the top-10 equals brute force; the graph was loaded from
#   snapshot + log (rolled-back and deleted rows are hidden by the executor's
#   visibility check, so no assertion here could catch lhv returning them);
# - DELETE + VACUUM, new rows reusing the freed TIDs, then a crash: the graph
#   still marks the deleted elements deleted, and each reused TID returns its
#   new row at distance 0;
# - a corrupted snapshot row gives a WARNING naming the index and still
#   correct answers (rebuilt from the table: the index was built from rows, so
#   its log alone does not hold them), no crash;
# - a session holding an uncommitted HOT update and another loading the graph
#   cannot block each other (the load reads no table row);
# - a load cancelled by statement_timeout leaves nothing stuck;
# - an unlogged table's index is empty after a crash and works.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $DIM = 8;
my $ROWS = 3000;

my $node = PostgreSQL::Test::Cluster->new('durability');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
restart_after_crash = on
max_connections = 20
# Loads at first access, where a query sees their WARNINGs and can cancel
# them (016_preload.pl covers preloading).
lhv.preload = off
lhv.snapshot_naptime = 1
lhv.snapshot_threshold = 1MB
});
$node->start;

$node->safe_psql('postgres', qq{
CREATE EXTENSION lhv;
CREATE TABLE t (id int PRIMARY KEY, note text, v real[] NOT NULL);
SELECT setseed(0.5);
INSERT INTO t SELECT i, 'n', ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, $ROWS) i;
CREATE INDEX t_l2 ON t USING lhv (v lhv_l2_ops);
CREATE TABLE q (qid int PRIMARY KEY, v real[] NOT NULL);
INSERT INTO q SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, 20) i;
});

# Top-10 (id and distance) of every query, through the index.
sub answers
{
	my ($n, $ef) = @_;
	$ef //= 40;
	return $n->safe_psql('postgres', qq{
SET lhv.ef_search = $ef;
SET enable_seqscan = off;
SELECT q.qid, s.id, s.d FROM q, LATERAL (
  SELECT id, v <-> q.v AS d FROM t ORDER BY v <-> q.v LIMIT 10) s ORDER BY q.qid, s.d, s.id;});
}

# The same by brute force (sequential scan, sorted by the operator).
sub exact_answers
{
	my ($n) = @_;
	return $n->safe_psql('postgres', qq{
SET enable_indexscan = off; SET enable_bitmapscan = off;
SELECT q.qid, s.id, s.d FROM q, LATERAL (
  SELECT id, v <-> q.v AS d FROM t ORDER BY v <-> q.v LIMIT 10) s ORDER BY q.qid, s.d, s.id;});
}

# Rows not found by their own vector at distance 0 (every committed row).
# When some are, says which, whether a scan of up to 20,000 rows finds them
# (reachable but missed at ef 200) or not (unreachable, or not in the graph),
# and the graph's counts against the table's.
sub lost_rows
{
	my ($n) = @_;
	my $lost_query = qq{
SELECT a.id, a.ctid FROM t a WHERE NOT EXISTS (
  SELECT FROM (SELECT id, v <-> a.v AS d FROM t b ORDER BY b.v <-> a.v LIMIT 3) s
  WHERE s.id = a.id AND s.d = 0)};
	my $count = $n->safe_psql('postgres', qq{
SET lhv.ef_search = 200; SET enable_seqscan = off;
SELECT count(*) FROM ($lost_query) lost;});
	if ($count ne '0') {
		diag($n->safe_psql('postgres', qq{
SET lhv.ef_search = 200; SET enable_seqscan = off;
SELECT lost.id, lost.ctid, EXISTS (SELECT FROM (SELECT b.id FROM t b
    ORDER BY b.v <-> (SELECT v FROM t WHERE id = lost.id) LIMIT 20000) s WHERE s.id = lost.id) AS in_long_scan
  FROM ($lost_query) lost;
SELECT 'rows', count(*) FROM t;
SELECT state, source, elements, deleted FROM lhv_indexes WHERE index = 't_l2'::regclass;}));
	}
	return $count;
}

sub source_of
{
	my ($n, $index) = @_;
	return $n->safe_psql('postgres', "SELECT source FROM lhv_indexes WHERE index = '$index'::regclass");
}

# 1. Clean restart right after CREATE INDEX.
my $before = answers($node);
is($node->safe_psql('postgres', 'SELECT count(*) FROM lhv_snapshot'), '1',
	'CREATE INDEX wrote its snapshot');
$node->restart;
is($node->safe_psql('postgres', 'SELECT indexes FROM lhv_memory'), '0', 'no graph in memory after the restart');
is(answers($node), $before, 'same ids, order and distances after a clean restart');
is(source_of($node, 't_l2'), 'snapshot', 'the graph was loaded from its snapshot');

# 2. Immediate shutdowns during concurrent inserts, deletes and rollbacks.
$node->safe_psql('postgres', qq{
CREATE SEQUENCE ids START 100000;
CREATE TABLE gone (id int);
});
my $script = qq{
\\set r random(1, 100)
BEGIN;
INSERT INTO t SELECT nextval('ids'), 'p', ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE g > 0) FROM generate_series(1, 3) g;
COMMIT;
BEGIN;
INSERT INTO t SELECT -nextval('ids'), 'rolled back', ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE g > 0) FROM generate_series(1, 2) g;
ROLLBACK;
BEGIN;
WITH d AS (DELETE FROM t WHERE id = (SELECT id FROM t WHERE id > 0 AND id % 100 = :r LIMIT 1) RETURNING id)
INSERT INTO gone SELECT id FROM d;
COMMIT;
};
my $script_file = $node->basedir . '/churn.sql';
PostgreSQL::Test::Utils::append_to_file($script_file, $script);

my $cycles = 20;
my $bad_cycles = 0;
for my $cycle (1 .. $cycles) {
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start(
		[ 'pgbench', '-n', '-c', '3', '-T', '3', '-f', $script_file, '-h', $node->host, '-p', $node->port, 'postgres' ],
		'>', \$out, '2>', \$err);
	sleep(1 + ($cycle % 2));
	$node->stop('immediate');
	$h->finish;
	$node->start;
	if ($cycle % 5 == 0 || $cycle == $cycles) {
		$node->safe_psql('postgres', 'VACUUM t') if $cycle % 10 == 0;
		my $lost = lost_rows($node);
		$bad_cycles++ if $lost ne '0';
		is($lost, '0', "cycle $cycle: every committed row found by its own vector");
	}
}
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM gone'), '>', 0, 'pgbench deleted rows');
is(answers($node, 400), exact_answers($node), 'top-10 equals brute force at ef_search 400 after the crashes');
like(source_of($node, 't_l2'), qr/^(snapshot|log)$/, 'graph loaded from snapshot and log, not the table');

# 3. DELETE + VACUUM, reuse of the freed TIDs, crash.
$node->safe_psql('postgres', qq{
CREATE TABLE del (id int, v real[]);
INSERT INTO del SELECT i, ARRAY[i, 0, 0]::real[] FROM generate_series(1, 500) i;
CREATE INDEX del_l2 ON del USING lhv (v lhv_l2_ops);
CREATE TABLE del_tids AS SELECT ctid::text AS tid FROM del WHERE id <= 250;
DELETE FROM del WHERE id <= 250;
VACUUM del;
INSERT INTO del SELECT i, ARRAY[i - 1000, 5, 5]::real[] FROM generate_series(1001, 1250) i;
});
my $reused = $node->safe_psql('postgres',
	"SELECT count(*) FROM del WHERE id > 1000 AND ctid::text IN (SELECT tid FROM del_tids)");
cmp_ok($reused, '>', 0, 'new rows reuse TIDs freed by VACUUM');
$node->stop('immediate');
$node->start;
# The executor would hide a deleted row anyway; what must survive the crash
# is the graph's own record of the deletions (the log's Delete entry): 500
# live elements for 500 rows (whether the new rows reused the deleted
# elements depends on when the last snapshot was taken), and the old vectors
# of the deleted rows no longer lead to their TIDs, which new rows now hold:
# a stale element would return such a row first, out of order.
is($node->safe_psql('postgres', qq{
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM del ORDER BY v <-> '{1,0,0}' LIMIT 5) s;
SELECT elements - deleted FROM lhv_indexes WHERE index = 'del_l2'::regclass;}), "5\n500",
	'after the crash the graph holds the 250 deleted elements as deleted');
is($node->safe_psql('postgres', qq{
SET enable_seqscan = off; SET lhv.ef_search = 100;
SELECT count(*) FROM generate_series(1, 250, 10) i WHERE
  (SELECT id FROM del ORDER BY v <-> ARRAY[i, 0, 0]::real[] LIMIT 1) IS DISTINCT FROM
  (SELECT id FROM del ORDER BY (v <-> ARRAY[i, 0, 0]::real[]) + 0 LIMIT 1);}), '0',
	'the old vectors of deleted rows find the true nearest rows, not their reused TIDs');
is($node->safe_psql('postgres', qq{
SET enable_seqscan = off; SET lhv.ef_search = 400;
SELECT count(*) FROM del a WHERE a.id > 1000 AND NOT EXISTS (
  SELECT FROM (SELECT id, v <-> a.v AS d FROM del b ORDER BY b.v <-> a.v LIMIT 1) s WHERE s.id = a.id AND s.d = 0);}),
	'0', 'each reused TID returns its new row at distance 0');

# Everything so far loaded without the table.
my $log_so_far = PostgreSQL::Test::Utils::slurp_file($node->logfile);
unlike($log_so_far, qr/rebuilding it from its table/, 'no graph was rebuilt from its table');

# 4. A corrupted snapshot row: WARNING, correct answers, no crash. The index
# was built from rows, so the graph comes from the table here.
$node->safe_psql('postgres', 'SELECT lhv_snapshot(\'t_l2\')');
$node->safe_psql('postgres', qq{
UPDATE lhv_snapshot SET data = overlay(data PLACING '\\xdeadbeefdeadbeefdeadbeef'::bytea FROM 40)
WHERE index_oid = 't_l2'::regclass;});
$node->restart;
my ($ret, $stdout, $stderr) = $node->psql('postgres', 'SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 5) s');
is($ret, 0, 'a query on the index with a corrupt snapshot succeeds');
is($stdout, '5', 'and returns its rows');
like($stderr, qr/WARNING:.*snapshot of index "t_l2" is unusable/, 'the WARNING names the index');
is(source_of($node, 't_l2'), 'table', 'the graph was rebuilt from the table');
ok($node->poll_query_until('postgres', "SELECT NOT snapshot_due FROM lhv_indexes WHERE index = 't_l2'::regclass"),
	'the snapshot worker saves the rebuilt graph');
is(answers($node, 400), exact_answers($node), 'answers after the corrupt snapshot equal brute force at ef_search 400');
is(lost_rows($node), '0', 'every row still found by its own vector');

# 5. An uncommitted HOT update and a load cannot block each other.
$node->restart;
my $holder = $node->background_psql('postgres');
$holder->query_safe("BEGIN; UPDATE t SET note = 'hot' WHERE id = 1;");
my $loader = $node->safe_psql('postgres', "SET statement_timeout = '20s'; SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 2) LIMIT 10) s");
is($loader, '10', 'the graph loads while another session holds an uncommitted HOT update');
is($holder->query_safe("SET statement_timeout = '20s'; SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 3) LIMIT 10) s;"),
	'10', 'the session holding the update then searches too');
$holder->query_safe('COMMIT');
$holder->quit;

# 6. A cancelled load leaves nothing stuck.
$node->safe_psql('postgres', "ALTER SYSTEM SET lhv.snapshot_threshold = '1TB'; SELECT pg_reload_conf()");
sleep(2);
$node->safe_psql('postgres', qq{
INSERT INTO t SELECT nextval('ids'), 'x', ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, 20000) i;});
$node->restart;
my ($cret, $cout, $cerr) = $node->psql('postgres', "SET statement_timeout = '3ms'; SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 4) LIMIT 10) s");
note("first access under a 3 ms statement_timeout: " . ($cret == 0 ? 'finished' : 'cancelled'));
is($node->safe_psql('postgres', "SELECT count(*) FROM lhv_indexes WHERE state = 'loading'"), '0', 'no slot left loading');
is($node->safe_psql('postgres', "SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 4) LIMIT 10) s"),
	'10', 'the next query loads the graph and answers');
is(lost_rows($node), '0', 'after the cancelled load every row is found by its own vector');
$node->safe_psql('postgres', "ALTER SYSTEM RESET lhv.snapshot_threshold; SELECT pg_reload_conf()");

# 7. An unlogged table: empty after a crash, and working.
$node->safe_psql('postgres', qq{
CREATE UNLOGGED TABLE u (id int, v real[]);
INSERT INTO u SELECT i, ARRAY[i, 1]::real[] FROM generate_series(1, 100) i;
CREATE INDEX u_l2 ON u USING lhv (v lhv_l2_ops);
INSERT INTO u SELECT i, ARRAY[i, 1]::real[] FROM generate_series(101, 200) i;
});
$node->restart;
is($node->safe_psql('postgres', "SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM u ORDER BY v <-> '{150,1}' LIMIT 300) s"),
	'200', 'an unlogged index keeps its rows over a clean restart');
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', "SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM u ORDER BY v <-> '{1,1}' LIMIT 10) s"),
	'0', 'after a crash the unlogged index is empty');
$node->safe_psql('postgres', "INSERT INTO u VALUES (7, '{7,1}')");
is($node->safe_psql('postgres', "SET enable_seqscan = off; SELECT id FROM u ORDER BY v <-> '{7,1}' LIMIT 1"),
	'7', 'and it works');

# The log: no crash, no unexpected error.
my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile);
unlike($log, qr/PANIC|server process .* was terminated by signal (?!9)/, 'no PANIC or backend crash in the server log');

$node->stop;
done_testing();
