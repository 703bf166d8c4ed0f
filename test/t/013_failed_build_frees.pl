# 013_failed_build_frees.pl: a build that fails inside the DSA code gives
# back every block of its graph at the abort, however many chunks the graph
# had (the blocks released between the error and the abort used to be
# recorded in a list capped at 1,024: the rest leaked until a restart).
#
# How: lhv.debug_records_per_chunk = 16 makes a graph of 3,000 chunks from
# 48,000 rows, and lhv.debug_fail_shared_allocation makes an allocation near
# the end of the reservation raise an ERROR inside the DSA code, as a full
# /dev/shm would. Shared memory is capped at about 1.6 times what the graph
# needs. Three builds fail (one in a savepoint, one in a REINDEX); then a
# build without the injected failure must fit. With the capped list each
# failure leaked about 1,900 chunks (7.6 MB), and the last build ran out of
# memory.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $ROWS = 48000;         # 3,000 chunks of 16 records
my $FAIL_AT = 2950;       # the header, then chunks: fails after about 2,950 blocks

my $node = PostgreSQL::Test::Cluster->new('failed_build');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'lhv'
lhv.shared_memory_reserved = 20MB
lhv.max_shared_memory = 20MB
lhv.snapshot_naptime = 3600
});
$node->start;

$node->safe_psql('postgres', qq{
CREATE EXTENSION lhv;
CREATE TABLE many (id int PRIMARY KEY, v real[] NOT NULL);
SELECT setseed(0.25);
INSERT INTO many SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 32) WHERE i > 0)
  FROM generate_series(1, $ROWS) i;
});

my $SETUP = "SET lhv.debug_records_per_chunk = 16; SET lhv.build_threads = 1;";
my $INDEX = "CREATE INDEX many_v ON many USING lhv (v lhv_l2_ops) WITH (m = 4, ef_construction = 8)";

# Blocks of 4 kB (16 records of 172 bytes, in dsa's 4 kB size class): the
# graph needs about 12 MB of the 20 MB.
my ($ret, $out, $err) = $node->psql('postgres', qq{
$SETUP
SET lhv.debug_fail_shared_allocation = $FAIL_AT;
$INDEX;
});
isnt($ret, 0, 'a CREATE INDEX that fails inside DSA fails');
like($err, qr/lhv\.debug_fail_shared_allocation/, 'with the injected error');
is($node->safe_psql('postgres', "SELECT indexes || ',' || graph_bytes FROM lhv_memory"), '0,0',
	'and leaves no graph in the registry');

($ret, $out, $err) = $node->psql('postgres', qq{
$SETUP
BEGIN;
SAVEPOINT s;
SET lhv.debug_fail_shared_allocation = $FAIL_AT;
$INDEX;
});
like($err, qr/lhv\.debug_fail_shared_allocation/, 'a second failure, in a savepoint');
($ret, $out, $err) = $node->psql('postgres', qq{
$SETUP
BEGIN;
SAVEPOINT s;
SET lhv.debug_fail_shared_allocation = $FAIL_AT;
DO \$\$ BEGIN EXECUTE '$INDEX'; EXCEPTION WHEN insufficient_resources THEN RAISE NOTICE 'caught: %', SQLERRM; END \$\$;
COMMIT;
});
like($err, qr/NOTICE:  caught: lhv: shared memory allocation failed/,
	'a third, caught by an exception block (subtransaction abort)');

# A REINDEX that fails frees its new graph too (the old one is gone with
# the REINDEX's replacement; the index loads it back from its snapshot).
$node->safe_psql('postgres', "$SETUP $INDEX");
($ret, $out, $err) = $node->psql('postgres', qq{
$SETUP
SET lhv.debug_fail_shared_allocation = $FAIL_AT;
REINDEX INDEX many_v;
});
like($err, qr/lhv\.debug_fail_shared_allocation/, 'a REINDEX that fails inside DSA fails');
$node->safe_psql('postgres', 'DROP INDEX many_v');
is($node->safe_psql('postgres', "SELECT indexes || ',' || graph_bytes FROM lhv_memory"), '0,0',
	'no graph left after the drop');

# Everything came back: the same graph fits again, more than once.
for my $round (1 .. 2) {
	($ret, $out, $err) = $node->psql('postgres', "$SETUP $INDEX");
	is($ret, 0, "a build after the failures fits in the same memory (round $round)") or diag($err);
	$node->safe_psql('postgres', 'DROP INDEX many_v') if $ret == 0;
}
$node->safe_psql('postgres', "$SETUP $INDEX");
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM many ORDER BY v <-> (SELECT v FROM many WHERE id = 4242) LIMIT 10) s}),
	'10', 'and answers through the index');

$node->stop;
done_testing();
