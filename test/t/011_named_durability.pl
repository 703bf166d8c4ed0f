# 011_named_durability.pl: named indexes after a restart, a crash and on a
# hot standby. A named index is a table plus an lhv index, so it comes back
# from its snapshot and change log like any lhv index: every stored vector is
# found again at distance 0 (an exact round trip), metadata is intact, a
# dropped index stays gone, and a streaming standby answers lhv_search like
# its primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('named_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
restart_after_crash = on
lhv.snapshot_naptime = 1
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION lhv;
SELECT lhv_create('docs', 8);
SELECT lhv_create('gone', 2, 'euclidean');
SELECT setseed(0.7);
SELECT lhv_add('docs', jsonb_agg(jsonb_build_object(
           'id', 'd' || i,
           'vector', ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, 8) WHERE i > 0),
           'metadata', jsonb_build_object('i', i))))
FROM generate_series(1, 600) i;
SELECT lhv_add('gone', 'x', '{1,2}');
});

# Items whose own vector is not their nearest neighbour at distance 0, or
# whose metadata changed.
my $lost = q{
SELECT count(*) FROM lhv_data.docs t WHERE NOT EXISTS (
  SELECT FROM lhv_search('docs', t.embedding, 1, 200) s
  WHERE s.id = t.id AND s.distance = 0 AND s.metadata = t.metadata);
};
my $search = q{
SELECT string_agg(id || ':' || round(distance::numeric, 6), ',' ORDER BY distance, id)
FROM lhv_search('docs', ARRAY(SELECT 0.1::real FROM generate_series(1, 8)), 10, 400);
};
is($primary->safe_psql('postgres', $lost), '0', 'every item found by its own vector');
my $before = $primary->safe_psql('postgres', $search);

$primary->restart;
is($primary->safe_psql('postgres', $search), $before, 'same answers after a clean restart');
is($primary->safe_psql('postgres', $lost), '0', 'every item found at distance 0 after a restart');

# Changes after the snapshot, then a crash.
$primary->safe_psql('postgres', q{
SELECT lhv_add('docs', 'late', '{1,1,1,1,1,1,1,1}', '{"late": true}');
SELECT lhv_add('docs', 'd1', '{-1,-1,-1,-1,-1,-1,-1,-1}');
SELECT lhv_delete('docs', 'd2');
SELECT lhv_drop('gone');
});
$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', $lost), '0', 'every item found at distance 0 after a crash');
is($primary->safe_psql('postgres', q{SELECT id || ' ' || metadata FROM lhv_search('docs', '{1,1,1,1,1,1,1,1}', 1)}),
	'late {"late": true}', 'an item added before the crash is there with its metadata');
is($primary->safe_psql('postgres', q{SELECT metadata FROM lhv_get('docs', 'd1')}), '{"i": 1}',
	'an upsert without metadata kept the stored metadata');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM lhv_get('docs', 'd2')}), '0',
	'a deleted item stays deleted');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM lhv_list() WHERE name = 'gone'}), '0',
	'a dropped index stays gone');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM lhv_snapshot s
  WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = s.index_oid)}), '0',
	'and its snapshot rows are gone');

# A streaming hot standby.
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('named_standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;
$primary->safe_psql('postgres', q{SELECT lhv_add('docs', 'after-backup', '{0,0,0,0,0,0,0,1}', '{"s": 1}')});
$primary->wait_for_catchup($standby, 'replay');
is($standby->safe_psql('postgres', $search), $primary->safe_psql('postgres', $search),
	'the standby answers lhv_search like its primary');
is($standby->safe_psql('postgres', q{SELECT id FROM lhv_search('docs', '{0,0,0,0,0,0,0,1}', 1)}),
	'after-backup', 'an item added on the primary is found on the standby');
is($standby->safe_psql('postgres', $lost), '0', 'every item found at distance 0 on the standby');

$standby->stop;
$primary->stop;
done_testing();
