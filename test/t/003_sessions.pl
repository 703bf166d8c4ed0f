# 003_sessions.pl: several sessions share one graph per index. The graph holds
# every inserted vector at once (committed or not), so visibility is the
# executor's job: a scan must return only the rows the session's snapshot
# sees, and must keep scanning past invisible entries to fill its LIMIT.
# An index created, dropped or rolled back in one session is seen that way by
# the others.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $DIM = 8;

my $node = PostgreSQL::Test::Cluster->new('sessions');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'lhv'\nmax_connections = 20");
$node->start;

$node->safe_psql('postgres', qq{
CREATE EXTENSION lhv;
CREATE TABLE t (id int PRIMARY KEY, v real[] NOT NULL);
SELECT setseed(0.17);
INSERT INTO t SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, 2000) i;
CREATE INDEX t_v ON t USING lhv (v lhv_l2_ops);
});

sub const_vec { my ($x) = @_; return "'{" . join(',', ($x) x $DIM) . "}'::real[]"; }
# Far outside the unit cube the data lives in: only rows we add are near.
my $X = const_vec(5);
my $Y = const_vec(-5);
my $Z = const_vec(9);

my $a = $node->background_psql('postgres');
my $b = $node->background_psql('postgres');
for my $s ($a, $b)
{
	$s->query_safe('SET enable_seqscan = off');
	$s->query_safe('SET enable_bitmapscan = off');
}

# Ids of the k rows nearest to $vec, as the session sees them, nearest first.
sub knn
{
	my ($s, $vec, $k, $table) = @_;
	$table //= 't';
	return $s->query_safe(
		"SELECT coalesce(string_agg(id::text, ',' ORDER BY d, id), '') FROM "
		  . "(SELECT id, v <-> $vec AS d FROM $table ORDER BY v <-> $vec LIMIT $k) n");
}

like($b->query_safe("EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> $X LIMIT 1"),
	qr/Index Scan using t_v on t/, 'searches use the index');
my $nearest_x_before = knn($b, $X, 1);
like($nearest_x_before, qr/^\d+$/, 'a row nearest to X exists before the insert');
cmp_ok($nearest_x_before, '<=', 2000, 'and it is one of the original rows');

# 1. Uncommitted insert: invisible to others, visible to its own session.
$a->query_safe('BEGIN');
$a->query_safe("INSERT INTO t VALUES (9001, $X)");
is(knn($a, $X, 1), '9001', 'the inserting session finds its own uncommitted row');
is(knn($b, $X, 1), $nearest_x_before, 'another session does not see the uncommitted row');
is($b->query_safe('SELECT count(*) FROM t'), '2000', 'count(*) in the other session unchanged');
$a->query_safe('COMMIT');
is(knn($b, $X, 1), '9001', 'after COMMIT the other session finds the row');
is(knn($b, $X, 2), "9001,$nearest_x_before", 'and the next row is the old nearest');

# 2. Many uncommitted rows near the query vector: a LIMIT must still be filled
# with visible rows (the scan goes on past invisible graph entries).
$a->query_safe('BEGIN');
$a->query_safe("INSERT INTO t SELECT 10000 + i, ARRAY(SELECT (9 + 0.001 * i)::real FROM generate_series(1, $DIM)) FROM generate_series(1, 200) i");
my $b_z = knn($b, $Z, 5);
my @b_z = split /,/, $b_z;
is(scalar(@b_z), 5, 'LIMIT 5 filled although the 200 nearest graph entries are invisible');
is(scalar(grep { $_ > 10000 } @b_z), 0, 'none of them is an uncommitted row');
is($b_z, $node->safe_psql('postgres',
		"SET enable_indexscan = off; SELECT string_agg(id::text, ',' ORDER BY d, id) FROM "
		  . "(SELECT id, v <-> $Z AS d FROM t ORDER BY v <-> $Z, id LIMIT 5) n"),
	'they are the 5 nearest committed rows (brute force in a third session)');
is(knn($a, $Z, 3), '10001,10002,10003', 'the inserting session sees its 200 rows first');

# 3. ROLLBACK leaves nothing visible, to anyone.
$a->query_safe('ROLLBACK');
my $b_z_after = knn($b, $Z, 5);
is($b_z_after, $b_z, 'after ROLLBACK the other session gets the same answer as before');
is(knn($a, $Z, 5), $b_z, 'and so does the session that rolled back');
is($a->query_safe('SELECT count(*) FROM t WHERE id > 10000'), '0', 'no rolled-back row in the table');
$a->query_safe('BEGIN');
$a->query_safe("INSERT INTO t VALUES (9002, $Y)");
$a->query_safe('ROLLBACK');
isnt(knn($a, $Y, 1), '9002', 'a single rolled-back row is not returned');
is($node->safe_psql('postgres', "SELECT count(*) FROM t WHERE id = 9002"), '0', 'and is not in the table');

# 4. A REPEATABLE READ snapshot taken before a commit does not see the row.
$b->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is(knn($b, $Y, 1) ne '9003' ? 'invisible' : 'visible', 'invisible', 'REPEATABLE READ snapshot taken by a first search (no row 9003 yet)');
$a->query_safe("INSERT INTO t VALUES (9003, $Y)");
is(knn($a, $Y, 1), '9003', 'committed (autocommit) row visible to its session');
isnt(knn($b, $Y, 1), '9003', 'not visible to an older REPEATABLE READ snapshot');
$b->query_safe('COMMIT');
is(knn($b, $Y, 1), '9003', 'visible once that transaction ends');

# 5. UPDATE moves a row: found by its new vector, not by its old one.
$a->query_safe("UPDATE t SET v = $Z WHERE id = 9003");
is(knn($b, $Z, 1), '9003', 'an updated row is found by its new vector');
isnt(knn($b, $Y, 1), '9003', 'and not by its old one');
is($b->query_safe("SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> $Z LIMIT 50) n WHERE id = 9003"),
	'1', 'the updated row appears once, not once per version');

# 6. An index created in one session is used by another with the same results.
$node->safe_psql('postgres', qq{
CREATE TABLE u (id int PRIMARY KEY, v real[] NOT NULL);
SELECT setseed(0.5);
INSERT INTO u SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0)
  FROM generate_series(1, 1500) i;
});
like($b->query_safe("EXPLAIN (COSTS OFF) SELECT id FROM u ORDER BY v <-> $X LIMIT 5"),
	qr/Seq Scan on u/, 'no index on u yet: sequential scan');
my $graphs = $b->query_safe('SELECT indexes FROM lhv_memory');

# Rolled-back CREATE INDEX: no index for anybody, graph memory given back.
$a->query_safe('BEGIN');
$a->query_safe('CREATE INDEX u_v ON u USING lhv (v lhv_l2_ops)');
is($a->query_safe('SELECT indexes FROM lhv_memory'), $graphs + 1, 'CREATE INDEX adds a graph');
$a->query_safe('ROLLBACK');
is($b->query_safe('SELECT indexes FROM lhv_memory'), $graphs, 'ROLLBACK of CREATE INDEX frees its graph');
like($b->query_safe("EXPLAIN (COSTS OFF) SELECT id FROM u ORDER BY v <-> $X LIMIT 5"),
	qr/Seq Scan on u/, 'the rolled-back index is not used');

$a->query_safe('CREATE INDEX u_v ON u USING lhv (v lhv_l2_ops)');
like($b->query_safe("EXPLAIN (COSTS OFF) SELECT id FROM u ORDER BY v <-> $X LIMIT 5"),
	qr/Index Scan using u_v on u/, 'an index created in session A is used by session B');
is($b->query_safe('SELECT indexes FROM lhv_memory'), $graphs + 1, 'one more graph, shared');

my @qs = map { my $i = $_; "'{" . join(',', map { sprintf('%.3f', (($i * 37 + $_ * 11) % 100) / 100) } 1 .. $DIM) . "}'::real[]" } 1 .. 10;
my (@same, @exact);
for my $q (@qs)
{
	my $ra = knn($a, $q, 10, 'u');
	my $rb = knn($b, $q, 10, 'u');
	push @same, $ra eq $rb ? 1 : 0;
	my $brute = $node->safe_psql('postgres',
		"SET enable_indexscan = off; SELECT string_agg(id::text, ',' ORDER BY d, id) FROM "
		  . "(SELECT id, v <-> $q AS d FROM u ORDER BY v <-> $q, id LIMIT 10) n");
	push @exact, $rb eq $brute ? 1 : 0;
}
is(join('', @same), '1' x 10, 'sessions A and B get the same 10 nearest rows for 10 queries');
cmp_ok(scalar(grep { $_ } @exact), '>=', 9, 'and they match brute force (at least 9 of 10 queries exactly)');
is($b->query_safe('SELECT indexes FROM lhv_memory'), $graphs + 1, 'searching from B did not build a second copy');

# Rows inserted by B into A's index are found by A.
$b->query_safe("INSERT INTO u VALUES (7777, $X)");
is(knn($a, $X, 1, 'u'), '7777', "a row inserted by B into A's new index is found by A");

# DROP INDEX in one session: the other falls back to a sequential scan, the
# graph is freed.
$a->query_safe('DROP INDEX u_v');
like($b->query_safe("EXPLAIN (COSTS OFF) SELECT id FROM u ORDER BY v <-> $X LIMIT 5"),
	qr/Seq Scan on u/, 'after DROP INDEX in A, B plans a sequential scan');
is($b->query_safe('SELECT indexes FROM lhv_memory'), $graphs, 'DROP INDEX frees the graph');
is(knn($b, $X, 1, 'u'), '7777', 'and still gets the right answer');

$a->quit;
$b->quit;

my @bad = grep { /\b(PANIC|FATAL):|was terminated by signal/ } split /\n/, slurp_file($node->logfile);
is(join("\n", @bad), '', 'no FATAL, PANIC or crash in the server log');

$node->stop;
done_testing();
