#!/usr/bin/env bash
# tap.sh: runs the TAP tests in test/t/ (PostgreSQL::Test::Cluster) against
# the installed lhv. The clusters run as the `postgres` user when started as
# root; their logs stay in a temporary directory, printed on failure.
# Usage: bash scripts/tap.sh [test/t/NNN_name.pl ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/cluster.sh"

pgxs=$(dirname "$("${PG_CONFIG:-pg_config}" --pgxs)")/../..
perl_lib=$(cd "$pgxs/src/test/perl" && pwd)
pg_regress=$(cd "$pgxs/src/test/regress" && pwd)/pg_regress

work=$(mktemp -d /tmp/lhv-tap.XXXXXX)
trap '[ -n "${LHV_TAP_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
cp -r "$root/test/t" "$work/t"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"

if [ $# -gt 0 ]; then
  tests=()
  for t in "$@"; do tests+=("t/$(basename "$t")"); done
else
  tests=(--ext=.pl t/)  # prove looks for *.t by default
fi

# One port-reservation directory for every TAP run on this machine, so that
# runs from several clones at once never pick the same port.
ports=/tmp/lhv-tap-ports
mkdir -p "$ports"
chmod 1777 "$ports" 2>/dev/null || true

status=0
(cd "$work" && lhv_as_pg env PATH="$PG_BINDIR:$PATH" PG_REGRESS="$pg_regress" TESTDIR="$work" PG_TEST_PORT_DIR="$ports" \
  prove -I "$perl_lib" -v "${tests[@]}") || status=$?
if [ $status -ne 0 ] && [ -d "$work/tmp_check/log" ]; then
  for log in "$work"/tmp_check/log/*; do
    echo "----- $log (last 40 lines)"
    tail -n 40 "$log"
  done
fi
exit $status
