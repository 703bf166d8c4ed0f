# 004_concurrency.pl: concurrent sessions insert, update, delete, roll back,
# VACUUM and search one table with two lhv indexes (one graph each, shared by
# all backends) for a bounded time, twice: once on graphs built by CREATE
# INDEX, once right after a restart, when the first accesses (rebuilds from
# the heap) race with the inserts. Then:
# - pgbench reports no failed transaction and the server log has no ERROR,
#   FATAL, PANIC or crash. The pgbench scripts check as they go (a failed
#   check raises an error and fails the run): an inserted row is its own
#   nearest neighbour right after the INSERT, searches return LIMIT rows in
#   non-decreasing distance order.
# - count(*) is what the committed inserts and deletes imply.
# - Every live row, searched by its own vector with the index forced (L2 and
#   cosine), comes back first (or tied at the same distance).
# - A full index scan returns every live row exactly once.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $DIM = 16;
my $PRELOAD = 2000;
my $SECONDS = 12;    # per pgbench run; two runs
my $RATE = 250;      # transactions/s over all clients: bounds the row count
my $CLIENTS = 5;

my $node = PostgreSQL::Test::Cluster->new('concurrency');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
max_connections = 30
# The restart below tests loads at first access, under concurrent clients.
lhv.preload = off
enable_seqscan = off
enable_bitmapscan = off
log_lock_waits = off
});
$node->start;

$node->safe_psql('postgres', qq{
CREATE EXTENSION lhv;
CREATE TABLE c (id bigserial PRIMARY KEY, v real[] NOT NULL, origin text NOT NULL);
CREATE TABLE deleted_log (id bigint);
CREATE TABLE inserted_log (id bigint);
SELECT setseed(0.3);
INSERT INTO c (v, origin)
  SELECT ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0), 'preload'
  FROM generate_series(1, $PRELOAD) i;
CREATE INDEX c_l2 ON c USING lhv (v lhv_l2_ops);
CREATE INDEX c_cos ON c USING lhv (v lhv_cosine_ops);
});

# The searches in the scripts below must use the indexes (enable_seqscan is
# off server-wide).
my $probe = "'{" . join(',', (0.5) x $DIM) . "}'::real[]";
like($node->safe_psql('postgres', "EXPLAIN (COSTS OFF) SELECT id FROM c ORDER BY v <-> $probe LIMIT 1"),
	qr/Index Scan using c_l2 on c/, 'ORDER BY <-> LIMIT uses c_l2');
like($node->safe_psql('postgres', "EXPLAIN (COSTS OFF) SELECT id FROM c ORDER BY v <=> $probe LIMIT 10"),
	qr/Index Scan using c_cos on c/, 'ORDER BY <=> LIMIT uses c_cos');

my $rand_vec = "ARRAY(SELECT random()::real FROM generate_series(1, $DIM))";
my %scripts = (
	# Insert a row, then find it by its own vector (with the index: seqscan is
	# off for the whole server) in the same transaction, by both operators.
	'004_insert.sql' => qq{
BEGIN;
INSERT INTO c (v, origin) VALUES ($rand_vec, 'insert') RETURNING id AS new_id, v AS new_v \\gset
SELECT id AS l2_id, v <-> ':new_v'::real[] AS l2_d FROM c ORDER BY v <-> ':new_v'::real[] LIMIT 1 \\gset
SELECT id AS cos_id, v <=> ':new_v'::real[] AS cos_d FROM c ORDER BY v <=> ':new_v'::real[] LIMIT 1 \\gset
\\if :l2_id != :new_id AND :l2_d > 0
SELECT 'inserted row :new_id not found by <->, got :l2_id at :l2_d'::int;
\\endif
\\if :cos_id != :new_id AND :cos_d > 0.000001
SELECT 'inserted row :new_id not found by <=>, got :cos_id at :cos_d'::int;
\\endif
INSERT INTO inserted_log VALUES (:new_id);
COMMIT;
},
	# Insert, then roll back: dead graph entries every scan must skip.
	'004_rollback.sql' => qq{
BEGIN;
INSERT INTO c (v, origin) SELECT $rand_vec, 'rollback' FROM generate_series(1, 3);
ROLLBACK;
},
	# A search: LIMIT 10 filled, distances non-decreasing, no rolled-back row.
	# The graph orders by float distances and the operator computes in double,
	# so two rows closer than float precision may come in either order.
	'004_search.sql' => qq{
SELECT ${rand_vec}::text AS q \\gset
SELECT count(*) AS n,
       count(*) FILTER (WHERE d < prev - 1e-6) AS unordered,
       count(*) FILTER (WHERE origin = 'rollback') AS rolled_back
FROM (SELECT d, origin, lag(d) OVER () AS prev
      FROM (SELECT v <-> ':q'::real[] AS d, origin FROM c ORDER BY v <-> ':q'::real[] LIMIT 10) s) s2 \\gset
\\if :n != 10 OR :unordered != 0 OR :rolled_back != 0
SELECT 'bad search: n=:n unordered=:unordered rolled_back=:rolled_back'::int;
\\endif
SELECT count(*) AS n FROM (SELECT id FROM c ORDER BY v <=> ':q'::real[] LIMIT 10) s \\gset
\\if :n != 10
SELECT 'cosine search returned :n rows'::int;
\\endif
},
	# Move a random row to a new vector.
	'004_update.sql' => qq{
\\set uid random(1, $PRELOAD)
UPDATE c SET v = $rand_vec, origin = 'updated' WHERE id = :uid;
},
	# Delete a random row, logged so count(*) can be checked.
	'004_delete.sql' => qq{
\\set did random(1, 20000)
WITH d AS (DELETE FROM c WHERE id = :did RETURNING id) INSERT INTO deleted_log SELECT id FROM d;
},
	'004_vacuum.sql' => qq{
VACUUM c;
},
);
my $dir = $node->basedir;
for my $name (keys %scripts) { append_to_file("$dir/$name", $scripts{$name}); }
my @files = ('-f', "$dir/004_insert.sql\@10", '-f', "$dir/004_search.sql\@10",
	'-f', "$dir/004_rollback.sql\@2", '-f', "$dir/004_update.sql\@2",
	'-f', "$dir/004_delete.sql\@2", '-f', "$dir/004_vacuum.sql\@1");


sub run_pgbench
{
	my ($what) = @_;
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = 'postgres';
	my ($out, $err) = ('', '');
	my $t0 = time;
	my $ok = IPC::Run::run([ 'pgbench', '-n', '-c', $CLIENTS, '-j', 2, '-T', $SECONDS,
			'-R', $RATE, '--max-tries=1', @files ], '>', \$out, '2>', \$err,
		IPC::Run::timeout($SECONDS + 60));
	note "$what: pgbench ran " . (time - $t0) . " s\n$out\n$err";
	ok($ok, "$what: pgbench exited with status 0") or diag($err);
	like($out, qr/number of failed transactions: 0 /, "$what: no failed transaction");
	unlike($err, qr/error|abort/i, "$what: no client error");
	my ($processed) = $out =~ /number of transactions actually processed: (\d+)/;
	cmp_ok($processed // 0, '>=', 10 * $SECONDS, "$what: pgbench processed $processed transactions");
	# Per-script counts: "SQL script 1: .../004_insert.sql ... - 1234 transactions".
	my ($ins) = $out =~ /004_insert\.sql\n\s*- weight: \d+[^\n]*\n\s*- (\d+) transactions/;
	ok(defined $ins && $ins > 0, "$what: inserts committed: " . ($ins // 'none'));
	my ($srch) = $out =~ /004_search\.sql\n\s*- weight: \d+[^\n]*\n\s*- (\d+) transactions/;
	ok(defined $srch && $srch > 0, "$what: searches run: " . ($srch // 'none'));
}

sub check_table
{
	my ($what) = @_;
	# Inserts and deletes are logged in their own transactions, so this is
	# what committed (pgbench's own tally can miss a commit as -T expires).
	my $expected = $node->safe_psql('postgres',
		"SELECT $PRELOAD + (SELECT count(*) FROM inserted_log) - (SELECT count(*) FROM deleted_log)");
	is($node->safe_psql('postgres', 'SET enable_indexscan = off; SET enable_seqscan = on; SELECT count(*) FROM c'),
		$expected, "$what: count(*) = preload + logged inserts - logged deletes");
	is($node->safe_psql('postgres', "SELECT count(*) FROM c WHERE origin = 'rollback'"), '0',
		"$what: no rolled-back row in the table");

	for my $op ('<->', '<=>')
	{
		my $tol = $op eq '<->' ? '0' : '0.000001';
		# HNSW is approximate: at the default ef_search a few elements of a
		# graph churned by deletes can be missed; at 400 every reachable one is
		# found, so a miss there means a row lost from the graph.
		my $lost = $node->safe_psql('postgres', qq{
SET lhv.ef_search = 400;
SELECT count(*) || ': ' || coalesce(string_agg(r.id::text, ',' ORDER BY r.id), '') FROM c AS r
WHERE NOT EXISTS (SELECT 1 FROM (SELECT id, c.v $op r.v AS d FROM c ORDER BY c.v $op r.v LIMIT 1) n
                  WHERE n.id = r.id OR n.d <= $tol);
});
		is($lost, '0: ', "$what: every live row is found first by its own vector with $op");
	}
	like($node->safe_psql('postgres', 'SET lhv.max_scan_tuples = 100000; EXPLAIN (COSTS OFF) SELECT id FROM c ORDER BY v <-> (SELECT v FROM c ORDER BY id LIMIT 1) LIMIT 100000'),
		qr/Index Scan using c_l2 on c/, "$what: the full scan below uses the index");
	my $full = $node->safe_psql('postgres', qq{
SET lhv.max_scan_tuples = 100000;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM c ORDER BY v <-> (SELECT v FROM c ORDER BY id LIMIT 1) LIMIT 100000) s;
});
	is($full, "$expected|$expected", "$what: a full index scan returns every live row once");
}

run_pgbench('built graphs');
check_table('after concurrent run on built graphs');

# Restart: the graphs are gone, and the first accesses rebuild them from the
# heap while the clients insert.
$node->restart;
is($node->safe_psql('postgres', 'SELECT indexes FROM lhv_memory'), '0', 'no graph right after restart');
run_pgbench('graphs rebuilt under load');
is($node->safe_psql('postgres', 'SELECT indexes FROM lhv_memory'), '2', 'both graphs rebuilt once');
check_table('after concurrent run through the rebuild');

# The fast shutdown of the restart may catch a backend whose client just
# left ("terminating connection due to administrator command"): PostgreSQL's.
my @bad = grep { !/terminating connection due to administrator command/ }
  grep { /\b(ERROR|PANIC|FATAL):|was terminated by signal|server process .* exited/ }
  split /\n/, slurp_file($node->logfile);
is(join("\n", @bad[0 .. ($#bad < 19 ? $#bad : 19)]), '', 'no ERROR, FATAL, PANIC or crash in the server log');

$node->stop;
done_testing();
