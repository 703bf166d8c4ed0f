# 015_backend_memory.pl: what lhv keeps in a backend's own memory.
#
# - CREATE INDEX holds at most maintenance_work_mem of vectors at once: with
#   1 MB on a 15 MB table it reads and inserts 16 batches, and its rows never
#   held more than 1.25 MB (PostgreSQL's own accounting of its memory
#   context, reported at DEBUG2); with the default 64 MB, one batch. Before,
#   the build copied the whole table into memory whatever the setting.
# - A backend that searched an index keeps one small view of its graph; when
#   another backend drops or reindexes the index, the first backend's next
#   transaction frees that view, without any lhv call of its own.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('backend_memory');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
lhv.snapshot_naptime = 3600
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION lhv;
CREATE TABLE t (id int PRIMARY KEY, v real[] NOT NULL);
SELECT setseed(0.5);
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 64) WHERE i > 0)
  FROM generate_series(1, 60000) i;
});

# The build's report: vectors, batches, and the most bytes its rows held.
sub build_report
{
	my ($mwm) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
SET maintenance_work_mem = '$mwm';
SET client_min_messages = debug2;
CREATE INDEX t_v ON t USING lhv (v lhv_l2_ops) WITH (m = 8, ef_construction = 32);
});
	is($ret, 0, "CREATE INDEX with maintenance_work_mem = $mwm succeeds") or diag($err);
	my ($vectors, $batches, $bytes) =
	  $err =~ /built index "t_v" from (\d+) vectors in (\d+) batch\(es\); its rows held at most (\d+) bytes/;
	$node->safe_psql('postgres', 'DROP INDEX t_v');
	return ($vectors // -1, $batches // -1, $bytes // -1);
}

my ($vectors, $batches, $bytes) = build_report('1MB');
is($vectors, 60000, 'every row is indexed');
cmp_ok($batches, '>=', 15, "in batches ($batches)");
cmp_ok($bytes, '<=', 1.25 * 1024 * 1024, "holding at most 1.25 MB of rows at once ($bytes bytes)");
($vectors, $batches, $bytes) = build_report('64MB');
is($batches, 1, 'with 64 MB the 15 MB of rows are one batch');
cmp_ok($bytes, '<=', 20 * 1024 * 1024, "held once, not copied as they grow ($bytes bytes)");
cmp_ok($bytes, '>=', 60000 * 264, 'and all of them');

$node->safe_psql('postgres', 'CREATE INDEX t_v ON t USING lhv (v lhv_l2_ops) WITH (m = 8, ef_construction = 32)');

# Session A searches; session B drops or reindexes.
my $a = $node->background_psql('postgres');
my $search = q{SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 7) LIMIT 10) s;};
is($a->query_safe($search), '10', 'session A searches the index');
my ($views, $retired, $view_bytes) = split /\|/, $a->query_safe('SELECT graph_views, retired_views, view_bytes FROM lhv_backend_memory()');
is("$views|$retired", '1|0', 'and keeps one view of its graph');
cmp_ok($view_bytes, '<', 64 * 1024, "of a few kB ($view_bytes bytes for 60,000 elements)");

$node->safe_psql('postgres', 'REINDEX INDEX t_v');
$a->query_safe('SELECT 1');
is($a->query_safe('SELECT graph_views || \'|\' || retired_views FROM lhv_backend_memory()'), '0|0',
	'after a REINDEX in session B, A\'s next transaction freed the view of the old graph');
is($a->query_safe($search), '10', 'A searches the new graph');
is($a->query_safe('SELECT graph_views FROM lhv_backend_memory()'), '1', 'through one view');

$node->safe_psql('postgres', 'DROP INDEX t_v');
$a->query_safe('SELECT 1');
is($a->query_safe('SELECT graph_views || \'|\' || retired_views || \'|\' || view_bytes FROM lhv_backend_memory()'),
	'0|0|0', 'after a DROP INDEX in session B, A holds no view');
$a->quit;

$node->stop;
done_testing();
