# 012_named_import.pl: a named index made by lhv_import is durable like any
# other. Its graph was taken over from the bytes and saved as the build's
# snapshot, so after a restart it is loaded from that snapshot (not rebuilt
# from the table) and answers exactly as before; after a crash, adds and
# deletes made on it since are there too; a streaming standby answers like
# its primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('import_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
restart_after_crash = on
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION lhv;
SELECT lhv_create('source', 16, 'cosine');
SELECT setseed(0.3);
SELECT lhv_add('source', jsonb_agg(jsonb_build_object(
           'id', 'd' || i,
           'vector', ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 16) WHERE i > 0),
           'metadata', jsonb_build_object('i', i))))
FROM generate_series(1, 800) i;
SELECT lhv_delete('source', 'd' || i) FROM generate_series(1, 800, 9) i;
SELECT lhv_import('copy', lhv_export('source'));
});

# The answers of 30 queries, and items not found at distance 0 by their own
# vector (with their metadata).
my $answers = q{
SELECT string_agg(s.id || ':' || s.distance, ',' ORDER BY q, s.n)
FROM generate_series(1, 30) q,
     lhv_search('copy', ARRAY(SELECT sin(q * 7 + j)::real FROM generate_series(1, 16) j), 10, 100)
       WITH ORDINALITY s(id, distance, metadata, n);
};
my $lost = q{
SELECT count(*) FROM lhv_data.copy t WHERE NOT EXISTS (
  SELECT FROM lhv_search('copy', t.embedding, 1, 200) s
  WHERE s.id = t.id AND s.distance < 1e-6 AND s.metadata = t.metadata);
};
my $source_of_copy = q{
SELECT s.source || ' ' || s.elements || ' ' || s.deleted FROM lhv_indexes s
JOIN pg_index i ON i.indexrelid = s.index WHERE i.indrelid = 'lhv_data.copy'::regclass;
};
my $before = $primary->safe_psql('postgres', $answers);
is($before, $primary->safe_psql('postgres', $answers =~ s/'copy'/'source'/r),
	'the import answers as its source does');
is($primary->safe_psql('postgres', $source_of_copy), 'build 800 89',
	'its graph is the source graph, deleted elements included');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM lhv_snapshot s JOIN pg_index i ON i.indexrelid = s.index_oid
  WHERE i.indrelid = 'lhv_data.copy'::regclass}) > 0 ? 1 : 0, 1, 'the import wrote a snapshot');

$primary->restart;
is($primary->safe_psql('postgres', $answers), $before, 'same answers after a restart');
is($primary->safe_psql('postgres', $source_of_copy), 'snapshot 800 89',
	'the graph came from the snapshot, not from the table');
is($primary->safe_psql('postgres', $lost), '0', 'every item found by its own vector after a restart');

# Changes to the imported index, then a crash.
$primary->safe_psql('postgres', q{
SELECT lhv_add('copy', 'late', ARRAY(SELECT 0.5::real FROM generate_series(1, 16)), '{"late": true}');
SELECT lhv_delete('copy', 'd2');
});
$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', $lost), '0', 'every item found by its own vector after a crash');
is($primary->safe_psql('postgres', q{SELECT id || ' ' || metadata FROM lhv_search('copy',
  ARRAY(SELECT 0.5::real FROM generate_series(1, 16)), 1)}), 'late {"late": true}',
	'an item added to the import before the crash is there');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM lhv_get('copy', 'd2')}), '0',
	'an item deleted before the crash stays deleted');

# A streaming standby, backed up after an import of its own.
$primary->safe_psql('postgres', q{SELECT lhv_import('copy2', lhv_export('copy'))});
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('import_standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres', q{SELECT lhv_import('copy3', lhv_export('copy'))});
$primary->wait_for_catchup($standby, 'replay');
for my $name ('copy', 'copy2', 'copy3') {
	my $query = $answers =~ s/'copy'/'$name'/r;
	is($standby->safe_psql('postgres', $query), $primary->safe_psql('postgres', $query),
		"the standby answers lhv_search on $name like its primary");
}
is($standby->safe_psql('postgres', q{SELECT octet_length(lhv_export('copy3')) > 0}), 't',
	'a standby exports');

$standby->stop;
$primary->stop;
done_testing();
