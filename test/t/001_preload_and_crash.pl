# 001_preload_and_crash.pl: lhv refuses to work unless preloaded, says how to
# fix it, and its shared memory comes back after a backend crash makes the
# postmaster re-initialise shared memory.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->start;

my ($ret, $stdout, $stderr) = $node->psql('postgres', 'CREATE EXTENSION lhv');
isnt($ret, 0, 'CREATE EXTENSION fails without shared_preload_libraries');
like($stderr, qr/lhv must be loaded via shared_preload_libraries/, 'the error names the cause');
like($stderr, qr/shared_preload_libraries/, 'the hint says how to fix it');

# PostgreSQL::Test::Cluster turns restart_after_crash off; this test needs the
# postmaster to re-initialise shared memory after the crash below.
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'lhv'\nrestart_after_crash = on");
$node->restart;
$node->safe_psql('postgres', 'CREATE EXTENSION lhv');
is($node->safe_psql('postgres', 'SELECT count(*) FROM lhv_memory WHERE reserved_bytes > 0'),
	'1', 'lhv_memory reports the reserved part once preloaded');

# Crash one backend: the postmaster kills the others and re-initialises
# shared memory, which must bring lhv's area back in a usable state.
my $session = $node->background_psql('postgres');
my $victim = $session->query_safe('SELECT pg_backend_pid()');
kill 'KILL', $victim;
$session->quit;
$node->poll_query_until('postgres', 'SELECT true') or die 'server did not come back';
like($node->safe_psql('postgres', 'SELECT lhv_version()'), qr/^\d+\.\d+\.\d+$/,
	'lhv works after shared memory re-initialisation');
is($node->safe_psql('postgres', 'SELECT indexes FROM lhv_memory'), '0',
	'the registry starts empty after the crash');
like(slurp_file($node->logfile), qr/terminating any other active server processes|server process .* was terminated by signal 9/,
	'the crash really happened');

$node->stop;
done_testing();
