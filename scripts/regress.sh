#!/usr/bin/env bash
# regress.sh: runs the pg_regress tests (sql/*.sql against expected/*.out, the
# list from the Makefile's REGRESS) on a throwaway instance with lhv preloaded.
# Needs lhv installed (scripts/build.sh). As root, the instance runs as the
# unprivileged `postgres` user. Prints pg_regress's output, and the diffs on
# failure; exits non-zero on failure.
#   scripts/regress.sh [test ...]      default: every test in REGRESS
# LHV_REGRESS_OUTPUT=DIR keeps results/ and regression.diffs in DIR (to review
# a new test's output before copying it to expected/); by default a temporary
# directory is used and removed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

PG_CONFIG=${PG_CONFIG:-pg_config}
bindir=$("$PG_CONFIG" --bindir)
pg_regress="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress"

if [ $# -gt 0 ]; then
  tests=("$@")
else
  read -r -a tests <<<"$(make -s print-regress)"
fi
[ ${#tests[@]} -gt 0 ] || { echo "regress.sh: no tests found" >&2; exit 1; }

# Runs a command as the user that owns the server.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -n "${LHV_REGRESS_OUTPUT:-}" ]; then
  work=$LHV_REGRESS_OUTPUT
  mkdir -p "$work"
  rm -rf "$work/instance" "$work/results" "$work/regression.diffs" "$work/regression.out"
else
  work=$(mktemp -d /tmp/lhv_regress.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
# The clone may sit where the server's user cannot read (/root): stage the
# test inputs in the work directory, which it owns.
mkdir -p "$work/input"
cp -r "$root/sql" "$root/expected" "$work/input/"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$work"
cat >"$work/lhv.conf" <<'CONF'
shared_preload_libraries = 'lhv'
CONF
chmod a+r "$work/lhv.conf"

# From the work directory: pg_regress and the server's programs cannot enter
# a clone closed to postgres, and would say so (every path here is absolute).
(cd "$work" && as_pg "$pg_regress" \
  --temp-instance="$work/instance" \
  --temp-config="$work/lhv.conf" \
  --bindir="$bindir" \
  --inputdir="$work/input" \
  --outputdir="$work" \
  --load-extension=lhv \
  "${tests[@]}")
status=$?
# Tests that need something optional (lhv_pgvector needs pgvector) say so in
# their output when they skip: repeat it here, where it is seen.
grep -h '^[a-z_]*: skipped: ' "$work"/results/*.out 2>/dev/null || true

if [ $status -ne 0 ]; then
  if [ -s "$work/regression.diffs" ]; then
    echo "=== regression.diffs"
    cat "$work/regression.diffs"
  fi
  if [ -f "$work/log/postmaster.log" ]; then
    echo "=== tail of the server log"
    tail -n 40 "$work/log/postmaster.log"
  fi
fi
exit $status
