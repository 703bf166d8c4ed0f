# 005_memory_limit_and_cancel.pl: CREATE INDEX that reaches lhv's shared
# memory cap fails with SQLSTATE 53200 and a hint naming the setting, and a
# cancelled CREATE INDEX or INSERT batch leaves no graph memory behind; in
# both cases the server and the table stay usable.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('memory');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
lhv.shared_memory_reserved = 8MB
lhv.max_shared_memory = 8MB
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION lhv;
CREATE TABLE big (id int PRIMARY KEY, v real[]);
SELECT setseed(0.5);
INSERT INTO big SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 128) WHERE i > 0)
  FROM generate_series(1, 20000) i;
});

# 20,000 x 128-d records need about 13 MB: more than the 8 MB cap.
my ($ret, $out, $err) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nCREATE INDEX big_v ON big USING lhv (v lhv_l2_ops)");
isnt($ret, 0, 'CREATE INDEX past lhv.max_shared_memory fails');
like($err, qr/53200/, 'with SQLSTATE 53200 (out of memory)');
like($err, qr/lhv\.max_shared_memory/, 'and a message or hint naming lhv.max_shared_memory');
is($node->safe_psql('postgres', 'SELECT indexes || \',\' || graph_bytes FROM lhv_memory'),
	'0,0', 'the failed build left no graph behind');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'big_v'}),
	'0', 'and no index');

# A smaller index still fits once the failed one gave its memory back.
$node->safe_psql('postgres', q{
CREATE TABLE small (id int PRIMARY KEY, v real[]);
INSERT INTO small SELECT id, v FROM big WHERE id <= 2000;
CREATE INDEX small_v ON small USING lhv (v lhv_l2_ops);
});
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT id FROM small ORDER BY v <-> (SELECT v FROM small WHERE id = 7) LIMIT 1}),
	'7', 'an index that fits is built and answers');

# Growing an existing graph past the cap by INSERT: the statement fails, the
# rows are not stored, and the graph keeps answering.
($ret, $out, $err) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nINSERT INTO small SELECT id, v FROM big WHERE id > 2000");
isnt($ret, 0, 'INSERT that outgrows the cap fails');
like($err, qr/53200/, 'with SQLSTATE 53200');
is($node->safe_psql('postgres', 'SELECT count(*) FROM small'), '2000', 'no row of the failed INSERT is stored');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT id FROM small ORDER BY v <-> (SELECT v FROM small WHERE id = 1999) LIMIT 1}),
	'1999', 'the graph still answers after the failed INSERT');

# Cancel: a CREATE INDEX stopped by statement_timeout leaves nothing behind.
$node->safe_psql('postgres', 'DROP TABLE small');
$node->append_conf('postgresql.conf', "lhv.shared_memory_reserved = 64MB\nlhv.max_shared_memory = 64MB\n");
$node->restart;
($ret, $out, $err) = $node->psql('postgres', q{
SET lhv.build_threads = 1;
SET statement_timeout = '300ms';
CREATE INDEX big_v ON big USING lhv (v lhv_l2_ops) WITH (ef_construction = 400);
});
isnt($ret, 0, 'a CREATE INDEX past statement_timeout is cancelled');
like($err, qr/canceling statement due to statement timeout/, 'by the timeout');
is($node->safe_psql('postgres', 'SELECT indexes || \',\' || graph_bytes FROM lhv_memory'),
	'0,0', 'the cancelled build left no graph behind');
$node->safe_psql('postgres', 'CREATE INDEX big_v ON big USING lhv (v lhv_l2_ops)');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT id FROM big ORDER BY v <-> (SELECT v FROM big WHERE id = 12345) LIMIT 1}),
	'12345', 'the next CREATE INDEX succeeds and answers');

my $log = slurp_file($node->logfile);
unlike($log, qr/PANIC|server process .* was terminated/, 'no crash in the server log');

$node->stop;
done_testing();
