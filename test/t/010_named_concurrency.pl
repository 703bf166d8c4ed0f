# 010_named_concurrency.pl: concurrent sessions add to (one by one and in
# batches, upserting the same ids), delete from, roll back on and search one
# named index for a bounded time. Then:
# - pgbench reports no failed transaction (its scripts check as they go: an
#   added item is found first by its own vector in its transaction, a search
#   returns k rows nearest first) and the server log has no ERROR or crash;
# - lhv_info's count is count(*) of the table, and every live item is found
#   first by its own vector;
# - two sessions creating the same name: the second waits for the first and
#   then gets 42710, or creates it if the first rolled back.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $DIM = 16;
my $SECONDS = 10;
my $CLIENTS = 4;
my $RATE = 200;

my $node = PostgreSQL::Test::Cluster->new('named_concurrency');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
max_connections = 20
});
$node->start;

$node->safe_psql('postgres', qq{
CREATE EXTENSION lhv;
SELECT lhv_create('conc', $DIM, 'euclidean', ef_search => 40);
SELECT setseed(0.5);
SELECT lhv_add('conc', jsonb_agg(jsonb_build_object('id', 'p' || i,
         'vector', ARRAY(SELECT random()::real FROM generate_series(1, $DIM) WHERE i > 0))))
FROM generate_series(1, 1000) i;
});

my $rand_vec = "ARRAY(SELECT random()::real FROM generate_series(1, $DIM))";
my %scripts = (
	# Upsert one of 3,000 ids (clients collide on ids), then find it by its
	# own vector in the same transaction.
	'007_add.sql' => qq{
\\set n random(1, 3000)
BEGIN;
SELECT ${rand_vec}::text AS v \\gset
SELECT lhv_add('conc', 'r:n', ':v'::real[], jsonb_build_object('n', :n));
SELECT id AS found, distance AS d FROM lhv_search('conc', ':v'::real[], 1, 100) \\gset
\\if :d > 0
SELECT 'added r:n not found by its vector, got :found at :d'::int;
\\endif
COMMIT;
},
	# A batch of 20 upserts of random ids.
	'007_batch.sql' => qq{
SELECT lhv_add('conc', jsonb_agg(jsonb_build_object('id', 'r' || (1 + floor(random() * 3000))::int,
         'vector', $rand_vec))) FROM generate_series(1, 20);
},
	# Delete a random id.
	'007_delete.sql' => qq{
\\set n random(1, 3000)
SELECT lhv_delete('conc', 'r:n');
},
	# Add then roll back.
	'007_rollback.sql' => qq{
BEGIN;
SELECT lhv_add('conc', 'rolled-back', $rand_vec);
ROLLBACK;
},
	# A search: 10 rows, nearest first, nothing rolled back.
	'007_search.sql' => qq{
SELECT count(*) AS n,
       count(*) FILTER (WHERE d < prev - 1e-6) AS unordered,
       count(*) FILTER (WHERE id = 'rolled-back') AS rolled_back
FROM (SELECT distance AS d, id, lag(distance) OVER (ORDER BY o) AS prev
      FROM lhv_search('conc', $rand_vec, 10) WITH ORDINALITY s(id, distance, metadata, o)) s2 \\gset
\\if :n != 10 OR :unordered != 0 OR :rolled_back != 0
SELECT 'bad search: n=:n unordered=:unordered rolled_back=:rolled_back'::int;
\\endif
},
);
my $dir = $node->basedir;
for my $name (keys %scripts) { append_to_file("$dir/$name", $scripts{$name}); }

{
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = 'postgres';
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ 'pgbench', '-n', '-c', $CLIENTS, '-j', 2, '-T', $SECONDS, '-R', $RATE,
			'--max-tries=1', '-f', "$dir/007_add.sql\@10", '-f', "$dir/007_batch.sql\@2",
			'-f', "$dir/007_delete.sql\@3", '-f', "$dir/007_rollback.sql\@2",
			'-f', "$dir/007_search.sql\@10" ],
		'>', \$out, '2>', \$err, IPC::Run::timeout($SECONDS + 60));
	note "pgbench:\n$out\n$err";
	ok($ok, 'pgbench exited with status 0') or diag($err);
	like($out, qr/number of failed transactions: 0 /, 'no failed transaction');
	unlike($err, qr/error|abort/i, 'no client error');
	my ($processed) = $out =~ /number of transactions actually processed: (\d+)/;
	cmp_ok($processed // 0, '>=', 10 * $SECONDS, "pgbench processed $processed transactions");
}

is($node->safe_psql('postgres', q{
SELECT (SELECT count FROM lhv_info('conc')) = (SELECT count(*) FROM lhv_data.conc)}),
	't', 'lhv_info count is the table count');
is($node->safe_psql('postgres', q{SELECT count(*) FROM lhv_data.conc WHERE id = 'rolled-back'}),
	'0', 'no rolled-back item');
my $lost = $node->safe_psql('postgres', q{
SELECT count(*) || ': ' || coalesce(string_agg(t.id, ',' ORDER BY t.id), '') FROM lhv_data.conc t
WHERE NOT EXISTS (SELECT 1 FROM lhv_search('conc', t.embedding, 1, 400) s
                  WHERE s.id = t.id OR s.distance = 0)});
is($lost, '0: ', 'every live item is found first by its own vector');

# Two sessions create the same name.
my $a = $node->background_psql('postgres');
my $b = $node->background_psql('postgres');
$a->query_safe('BEGIN');
$a->query_safe(q{SELECT lhv_create('race', 2)});
my ($ret, $out, $err) = $node->psql('postgres',
	q{SET lock_timeout = '300ms'; SELECT lhv_create('race', 2)}, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/55P03|lock timeout/, 'a second create of the name waits for the first');
$a->query_safe('COMMIT');
($ret, $out, $err) = $node->psql('postgres', q{SELECT lhv_create('race', 3)},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42710/, 'and fails with 42710 once the first committed');
$a->query_safe('BEGIN');
$a->query_safe(q{SELECT lhv_drop('race')});
$a->query_safe(q{SELECT lhv_create('race2', 2)});
$a->query_safe('ROLLBACK');
$b->query_safe(q{SELECT lhv_create('race2', 4)});
is($b->query_safe(q{SELECT dimension FROM lhv_info('race2')}), '4',
	'a name whose first create rolled back can be created');
is($b->query_safe(q{SELECT dimension FROM lhv_info('race')}), '2', 'the rolled-back drop kept race');
$a->quit;
$b->quit;

my @bad = grep { /\b(PANIC|FATAL):|was terminated by signal|server process .* exited/ }
  split /\n/, slurp_file($node->logfile);
is(join("\n", @bad), '', 'no FATAL, PANIC or crash in the server log');

$node->stop;
done_testing();
