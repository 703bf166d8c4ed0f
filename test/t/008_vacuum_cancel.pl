# 008_vacuum_cancel.pl: VACUUM rewires the neighbour lists around deleted
# elements in bounded steps, each under the index's exclusive lock, and checks
# for interrupts between steps. So a VACUUM busy repairing a big graph stops
# soon after statement_timeout, leaving a graph that still answers; and an
# INSERT made while VACUUM repairs waits for one step, not for the whole pass.
#
# LHV_TAP_VACUUM_ROWS sets the table size (default 200,000 rows x 32
# dimensions: repairing after the first DELETE takes about 4 s on 2 cores,
# after the second about 2 s).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $rows = $ENV{LHV_TAP_VACUUM_ROWS} // 200000;
my $dim = 32;

my $node = PostgreSQL::Test::Cluster->new('vacuum_cancel');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
lhv.shared_memory_reserved = 256MB
lhv.max_shared_memory = 1024MB
autovacuum = off
maintenance_work_mem = 256MB
# The snapshot worker stays idle: its transaction (writing a snapshot after
# the first VACUUM) would hold back the xmin horizon, and the second VACUUM
# would then find nothing to remove and nothing to repair.
lhv.snapshot_naptime = 3600
});
$node->start;

$node->safe_psql('postgres', qq{
CREATE EXTENSION lhv;
CREATE TABLE t (id int PRIMARY KEY, v real[]) WITH (autovacuum_enabled = off);
SELECT setseed(0.25);
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE i > 0)
  FROM generate_series(1, $rows) i;
CREATE INDEX t_v ON t USING lhv (v lhv_l2_ops);
});

# Rows found by their own vector, out of a sample of the live ones.
sub self_found
{
	my ($sample) = @_;
	return $node->safe_psql('postgres', qq{
SET enable_seqscan = off;
SET lhv.ef_search = 100;
SELECT count(*) FROM (SELECT id, v FROM t ORDER BY id LIMIT $sample) s
WHERE (SELECT t2.id FROM t t2 ORDER BY t2.v <-> s.v LIMIT 1) = s.id});
}

# $inserts single-row INSERTs in one session, under a 1 s statement_timeout
# (for the whole loop); prints the slowest three and the median.
my $inserts = 100;
sub timed_inserts
{
	my ($first, $extra_sql) = @_;
	return $node->psql('postgres', qq{
SET statement_timeout = '1s';
DO \$\$
DECLARE
  waits float8[] := '{}';
  t0 timestamptz;
BEGIN
  FOR i IN 1..$inserts LOOP
    t0 := clock_timestamp();
    INSERT INTO t SELECT $first + i, ARRAY(SELECT random()::real FROM generate_series(1, $dim));
    waits := waits || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RAISE NOTICE 'insert ms: slowest %, median %',
    (SELECT array_agg(round(w::numeric, 1)) FROM (SELECT w FROM unnest(waits) w ORDER BY w DESC LIMIT 3) s),
    (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY w)::numeric, 2) FROM unnest(waits) w);
END
\$\$;
$extra_sql});
}

# 1. statement_timeout cancels VACUUM during the repair. Half the rows are
# deleted, so nearly every neighbour list needs rewiring.
$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 2 = 0');
my $start = time;
my ($ret, $out, $err) = $node->psql('postgres', qq{
SET statement_timeout = '1s';
VACUUM (INDEX_CLEANUP ON) t;
});
my $cancel_elapsed = time - $start;
note(sprintf('VACUUM with statement_timeout = 1s returned after %.2f s', $cancel_elapsed));
isnt($ret, 0, 'VACUUM past statement_timeout fails');
like($err, qr/canceling statement due to statement timeout/, 'cancelled by the timeout');
like($err, qr/while cleaning up index "t_v"/, 'while it was repairing the index');
cmp_ok($cancel_elapsed, '<', 3.0, 'and soon after the timeout');

# The graph cancelled half-way still answers.
my $sample = 200;
cmp_ok(self_found($sample), '>=', $sample * 0.95, 'after the cancel, live rows are found by their vector');
is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), $rows / 2, 'no live row lost');

# 2. An INSERT while VACUUM repairs waits for one step only. Another quarter
# of the rows goes; VACUUM runs in the background while inserts are timed.
$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 4 = 1');
# The same inserts with no VACUUM running, for comparison.
($ret, $out, $err) = timed_inserts($rows + 1000, '');
is($ret, 0, 'inserts with no VACUUM running');
my ($quiet) = $err =~ /insert ms: (.*)/;
note("with no VACUUM running: $quiet");

my $vacuum = $node->background_psql('postgres');
my $vacuum_pid = $vacuum->query_safe('SELECT pg_backend_pid()');
$start = time;
$vacuum->query_safe('SET log_min_messages = debug1');
$vacuum->query_until(qr/started/, "\\echo started\nVACUUM (INDEX_CLEANUP ON) t;\n");
# Wait for the clean-up phase, noting the phases on the way.
my @phases;
for (my $waited = 0; $waited < 120; $waited += 0.05)
{
	my $phase = $node->safe_psql('postgres', qq{
SELECT coalesce((SELECT phase FROM pg_stat_progress_vacuum WHERE pid = $vacuum_pid), 'none')});
	push @phases, $phase if !@phases || $phases[-1] ne $phase;
	last if $phase eq 'cleaning up indexes' || $phase eq 'none';
	Time::HiRes::sleep(0.05);
}
note('VACUUM phases seen: ' . join(', ', @phases));
is($phases[-1], 'cleaning up indexes', 'VACUUM reaches its index clean-up');
my $repair_seen = time;

($ret, $out, $err) = timed_inserts($rows, "SELECT phase FROM pg_stat_progress_vacuum WHERE pid = $vacuum_pid;");
my $inserts_done = time;
is($ret, 0, "$inserts INSERTs, under a 1 s statement_timeout, succeed while VACUUM repairs");
my ($busy) = $err =~ /insert ms: (.*)/;
note("while VACUUM repaired: " . ($busy // '?')
	  . sprintf(' (%.2f s for all of them)', $inserts_done - $repair_seen));
is($out, 'cleaning up indexes', 'VACUUM was still repairing when the inserts were done');
my ($slowest) = ($busy // '') =~ /\{([\d.]+)/;
cmp_ok($slowest // 1e9, '<', 500, 'no INSERT waited as long as half a second');

$vacuum->query_safe('SELECT 1');  # waits for the VACUUM to end
my $vacuum_elapsed = time - $start;
$vacuum->quit;
note(sprintf('the uncancelled VACUUM took %.2f s', $vacuum_elapsed));
cmp_ok($vacuum_elapsed, '>', 1.5, 'the repair pass is long enough to show both (longer than the 1 s timeouts)');
my ($steps_line) = slurp_file($node->logfile) =~ /(lhv: repaired .* longest step [\d.]+ ms)/;
note($steps_line // 'no repair summary in the log');

cmp_ok(self_found($sample), '>=', $sample * 0.95, 'after the full VACUUM, live rows are found by their vector');
is($node->safe_psql('postgres', qq{
SET enable_seqscan = off;
SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = $rows + 7) LIMIT 1}),
	$rows + 7, 'a row inserted during the repair is found');

my $log = slurp_file($node->logfile);
unlike($log, qr/PANIC|server process .* was terminated/, 'no crash in the server log');
$node->stop;
done_testing();
