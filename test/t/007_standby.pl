# 007_standby.pl: a streaming hot standby answers like its primary. It loads
# graphs from the snapshot rows and log pages WAL replay brings it, and
# applies the replayed log before every scan, so inserts, deletes + VACUUM,
# TRUNCATE, REINDEX and DROP on the primary are all reflected; a promoted
# standby simply continues.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $DIM = 8;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
lhv.snapshot_naptime = 1
lhv.snapshot_threshold = 1MB
});
$primary->start;
$primary->safe_psql('postgres', qq{
CREATE EXTENSION lhv;
CREATE TABLE t (id int PRIMARY KEY, v real[] NOT NULL);
SELECT setseed(0.3);
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, 2000) i;
CREATE INDEX t_l2 ON t USING lhv (v lhv_l2_ops);
CREATE TABLE q (qid int PRIMARY KEY, v real[] NOT NULL);
INSERT INTO q SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, 20) i;
});

$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;

# Top-10 ids and distances of every query at a high ef_search.
sub answers
{
	my ($n) = @_;
	return $n->safe_psql('postgres', qq{
SET lhv.ef_search = 400; SET enable_seqscan = off;
SELECT q.qid, s.id, s.d FROM q, LATERAL (
  SELECT id, v <-> q.v AS d FROM t ORDER BY v <-> q.v LIMIT 10) s ORDER BY q.qid, s.d, s.id;});
}

# Rows of t not found by their own vector at distance 0.
sub lost_rows
{
	my ($n) = @_;
	return $n->safe_psql('postgres', qq{
SET lhv.ef_search = 200; SET enable_seqscan = off;
SELECT count(*) FROM t a WHERE NOT EXISTS (
  SELECT FROM (SELECT id, v <-> a.v AS d FROM t b ORDER BY b.v <-> a.v LIMIT 3) s
  WHERE s.id = a.id AND s.d = 0);});
}

sub sync { $primary->wait_for_catchup($standby, 'replay'); }

sync();
is(answers($standby), answers($primary), 'standby answers like the primary after CREATE INDEX');
is($standby->safe_psql('postgres', "SELECT source FROM lhv_indexes"), 'snapshot',
	'the standby loaded the replicated snapshot');

# Inserts on the primary reach the standby's graph.
$primary->safe_psql('postgres', qq{
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(10001, 10200) i;});
sync();
is($standby->safe_psql('postgres', qq{
SET enable_seqscan = off; SET lhv.ef_search = 200;
SELECT count(*) FROM t a WHERE a.id > 10000 AND EXISTS (
  SELECT FROM (SELECT id FROM t b ORDER BY b.v <-> a.v LIMIT 1) s WHERE s.id = a.id);}),
	'200', 'all 200 rows inserted on the primary are found on the standby');
is(answers($standby), answers($primary), 'standby answers like the primary after inserts');

# Deletes and VACUUM.
$primary->safe_psql('postgres', 'DELETE FROM t WHERE id % 3 = 0; VACUUM t;');
$primary->safe_psql('postgres', qq{
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(20001, 20300) i;});
sync();
is(answers($standby), answers($primary), 'standby answers like the primary after DELETE + VACUUM + INSERT');
# The executor hides deleted rows anyway; the standby's graph itself must
# have applied the primary's deletions: as many live elements as live rows.
# (Totals may differ: inserts reuse deleted elements once a repair pass freed
# them, and a graph loaded from a snapshot frees its deleted ones only at
# the next repair.)
my $live_elements = "SELECT elements - deleted FROM lhv_indexes WHERE index = 't_l2'::regclass";
is($primary->safe_psql('postgres', $live_elements), $primary->safe_psql('postgres', 'SELECT count(*) FROM t'),
	'the primary\'s graph has one live element per row after DELETE + VACUUM + INSERT');
is($standby->safe_psql('postgres', $live_elements), $primary->safe_psql('postgres', $live_elements),
	'the standby\'s graph has applied the same deletions');
is(lost_rows($standby), '0', 'every row is found by its own vector on the standby');

# A standby restart loads from what replay brought (snapshots written by the
# primary's worker, and the log after them).
sleep(3);
$standby->restart;
is(answers($standby), answers($primary), 'standby answers like the primary after its restart');

# TRUNCATE, then new rows.
$primary->safe_psql('postgres', 'TRUNCATE t');
sync();
is($standby->safe_psql('postgres', "SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM q WHERE qid = 1) LIMIT 10) s"),
	'0', 'after TRUNCATE the standby returns no row and no error');
$primary->safe_psql('postgres', qq{
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, 500) i;});
sync();
is(answers($standby), answers($primary), 'standby answers like the primary after TRUNCATE + INSERT');

# REINDEX.
$primary->safe_psql('postgres', 'REINDEX INDEX t_l2');
$primary->safe_psql('postgres', qq{
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(501, 600) i;});
sync();
is(answers($standby), answers($primary), 'standby answers like the primary after REINDEX');
is(lost_rows($standby), '0', 'every row found by its own vector on the standby after REINDEX');
is($standby->safe_psql('postgres', 'SELECT indexes FROM lhv_memory'), '1',
	'the standby gave back the graphs of the truncated and reindexed relfilenodes');

# DROP INDEX: the standby gives the graph back, and no snapshot row is left.
$primary->safe_psql('postgres', 'CREATE INDEX t_cos ON t USING lhv (v lhv_cosine_ops)');
sync();
is($standby->safe_psql('postgres', "SET enable_seqscan = off; SELECT count(*) FROM (SELECT id FROM t ORDER BY v <=> (SELECT v FROM q WHERE qid = 1) LIMIT 10) s"),
	'10', 'the standby searches a new cosine index');
my $cos_oid = $primary->safe_psql('postgres', "SELECT 't_cos'::regclass::oid");
is($standby->safe_psql('postgres', "SELECT count(*) FROM lhv_indexes WHERE index::oid = $cos_oid"), '1',
	'the cosine graph is in the standby\'s memory');
$primary->safe_psql('postgres', 'DROP INDEX t_cos');
sync();
ok($standby->poll_query_until('postgres', "SELECT count(*) = 0 FROM lhv_indexes WHERE index::oid = $cos_oid"),
	'the standby gives back the graph of an index dropped on the primary');
is($standby->safe_psql('postgres', "SELECT count(*) FROM lhv_snapshot WHERE index_oid NOT IN (SELECT oid FROM pg_class)"),
	'0', 'no snapshot row of a dropped index reaches the standby');

# Promotion: the standby continues, inserts on it are found.
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()');
$standby->safe_psql('postgres', qq{
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(30001, 30100) i;});
is($standby->safe_psql('postgres', qq{
SET enable_seqscan = off; SET lhv.ef_search = 200;
SELECT count(*) FROM t a WHERE a.id > 30000 AND EXISTS (
  SELECT FROM (SELECT id FROM t b ORDER BY b.v <-> a.v LIMIT 1) s WHERE s.id = a.id);}),
	'100', 'rows inserted on the promoted standby are found');
is(lost_rows($standby), '0', 'every row found by its own vector on the promoted standby');
$standby->restart;
is(lost_rows($standby), '0', 'and after the promoted standby restarts');

my $log = PostgreSQL::Test::Utils::slurp_file($standby->logfile);
unlike($log, qr/PANIC|could not read block|was terminated by signal/, 'no PANIC, missing block or backend crash on the standby');

$standby->stop;
$primary->stop;
done_testing();
