# 009_named_dump_restore.pl: pg_dump / pg_restore keep named indexes: names,
# parameters, owners, grants, ids, vectors and metadata, and the restored
# indexes answer lhv_search (their graphs are built by the restored CREATE
# INDEX) and take lhv_add and lhv_drop. Both the custom format (pg_restore)
# and plain SQL (psql) are checked.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('named_dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'lhv'");
$node->start;

$node->safe_psql('postgres', q{
CREATE ROLE regress_owner;
CREATE ROLE regress_reader;
CREATE DATABASE src;
});
$node->safe_psql('src', q{
CREATE EXTENSION lhv;
SET ROLE regress_owner;
SELECT lhv_create('docs', 8);
SELECT lhv_create('places.eu-1', 2, 'euclidean', m => 8, ef_search => 64, ef_construction => 100);
SELECT lhv_create('empty', 3, 'inner_product');
SELECT setseed(0.3);
SELECT lhv_add('docs', jsonb_agg(jsonb_build_object(
           'id', 'd' || i,
           'vector', ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 8) WHERE i > 0),
           'metadata', jsonb_build_object('i', i, 'tags', jsonb_build_array('x', i % 3)))))
FROM generate_series(1, 500) i;
SELECT lhv_add('places.eu-1', 'origin', '{0,0}', '{}');
SELECT lhv_add('places.eu-1', 'p', '{3,4}');
GRANT SELECT ON lhv_data."docs" TO regress_reader;
});

# What a named index looks like from SQL, to compare before and after.
my $describe = q{
SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', name, dimension, distance, m, ef_search,
                         ef_construction, count, owner), E'\n' ORDER BY name) FROM lhv_list();
};
my $contents = q{
SELECT md5(string_agg(format('%s|%s|%s', t.id, g.vector, g.metadata), ',' ORDER BY t.id))
FROM lhv_data.docs t, lhv_get('docs', t.id) g;
};
my $search = q{
SELECT string_agg(id, ',' ORDER BY distance, id)
FROM lhv_search('docs', ARRAY(SELECT 0.1::real FROM generate_series(1, 8)), 10, 500);
};
my $before_describe = $node->safe_psql('src', $describe);
my $before_contents = $node->safe_psql('src', $contents);
my $before_search   = $node->safe_psql('src', $search);
like($before_describe, qr/^docs\|8\|cosine\|16\|20\|64\|500\|regress_owner$/m, 'source: docs described');

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my @connect = ('-h', $node->host, '-p', $node->port);

# Checks a restored database against the source.
sub check_restored
{
	my ($db, $how) = @_;
	is($node->safe_psql($db, $describe), $before_describe, "$how: names, parameters, counts and owners");
	is($node->safe_psql($db, $contents), $before_contents, "$how: ids, vectors and metadata");
	is($node->safe_psql($db, $search), $before_search, "$how: lhv_search answers as before");
	is($node->safe_psql($db, q{SELECT id, distance FROM lhv_search('places.eu-1', '{0,0}', 2)}),
		"origin|0\np|5", "$how: euclidean index searched");
	is($node->safe_psql($db, q{
		SELECT count(*) FROM pg_indexes WHERE schemaname = 'lhv_data' AND indexdef LIKE '%USING lhv%'}),
		'3', "$how: every data table has its lhv index");
	is($node->safe_psql($db, q{
		SET ROLE regress_reader;
		SELECT count(*) FROM lhv_search('docs', ARRAY(SELECT 1::real FROM generate_series(1, 8)), 3)}),
		'3', "$how: the reader's grant is kept");
	my ($ret, $out, $err) = $node->psql($db, q{
		SET ROLE regress_reader; SELECT * FROM lhv_search('places.eu-1', '{0,0}', 1)});
	like($err, qr/permission denied/, "$how: and nothing more is granted");
	is($node->safe_psql($db, q{
		SET ROLE regress_owner;
		SELECT lhv_add('docs', 'new', ARRAY(SELECT 0.5::real FROM generate_series(1, 8)));
		SELECT id FROM lhv_search('docs', ARRAY(SELECT 0.5::real FROM generate_series(1, 8)), 1);
		SELECT lhv_drop('empty');
		SELECT string_agg(name, ',' ORDER BY name) FROM lhv_named_indexes;}),
		"t\nnew\nt\ndocs,places.eu-1", "$how: add, search and drop work after the restore");
	($ret, $out, $err) = $node->psql($db, q{SELECT lhv_create('docs', 8)});
	like($err, qr/already exists/, "$how: a restored name is taken");
}

# Custom format, pg_restore into a new database.
command_ok([ 'pg_dump', @connect, '-Fc', '-f', "$tempdir/src.dump", 'src' ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE dst_custom');
command_ok([ 'pg_restore', @connect, '--exit-on-error', '-d', 'dst_custom', "$tempdir/src.dump" ],
	'pg_restore');
check_restored('dst_custom', 'pg_restore');

# Plain SQL through psql.
command_ok([ 'pg_dump', @connect, '-f', "$tempdir/src.sql", 'src' ], 'pg_dump (plain)');
$node->safe_psql('postgres', 'CREATE DATABASE dst_plain');
command_ok([ 'psql', @connect, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'dst_plain', '-f', "$tempdir/src.sql" ],
	'psql restores the plain dump');
check_restored('dst_plain', 'plain dump');

# The source is untouched by all this.
is($node->safe_psql('src', $describe), $before_describe, 'source unchanged');

$node->stop;
done_testing();
