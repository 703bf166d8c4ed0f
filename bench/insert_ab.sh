#!/usr/bin/env bash
# insert_ab.sh: single-row INSERT/s into a 784-d lhv index on 20,000 rows, for
# several git revisions of lhv side by side (e.g. before and after a change to
# the insert path), alternating them ROUNDS times on this machine.
#   bash bench/insert_ab.sh [--rounds N] [--seconds S] REV...
#   bash bench/insert_ab.sh 721db3f HEAD:nolog HEAD
# REV:nolog builds REV with LHV_BENCH_WITHOUT_INSERT_LOG, so that its INSERTs
# write no change log entry (nothing they add survives a restart): with REV
# itself, the cost of the change log alone, measured in one run. Needs a
# revision that has the switch (src/pg/storage/change_log.cpp).
# Each variant is built in a git worktree and installed into its own
# relocated copy of PostgreSQL 15 under /var/tmp/lhv-ab (postgres finds its
# share and lib directories relative to its binary), so the system
# installation is not touched. Run as root, like the README commands.
# Prints each measurement, then per variant the median and its ratio to the
# first variant's median.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=2 seconds=15
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: bash bench/insert_ab.sh [--rounds N] [--seconds S] REV..." >&2; exit 2; }
variants=("$@")
base=/var/tmp/lhv-ab
source "$root/scripts/cluster.sh"

# Builds variant $1 (REV or REV:nolog) into a PostgreSQL copy at $2.
install_variant() {
  local variant=$1 prefix=$2 rev=${1%:nolog} tree=$base/tree-$(basename "$2") cppflags=()
  local pg_config=$prefix/usr/lib/postgresql/15/bin/pg_config
  rm -rf "$prefix" "$tree"
  mkdir -p "$prefix/usr/lib/postgresql" "$prefix/usr/share/postgresql" "$prefix/usr/include"
  cp -a /usr/lib/postgresql/15 "$prefix/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$prefix/usr/share/postgresql/"
  cp -a /usr/include/postgresql "$prefix/usr/include/"
  git -C "$root" worktree add -f -q --detach "$tree" "$rev"
  if [ "$variant" != "$rev" ]; then
    grep -q LHV_BENCH_WITHOUT_INSERT_LOG "$tree/src/pg/storage/change_log.cpp" ||
      { echo "insert_ab: $rev has no LHV_BENCH_WITHOUT_INSERT_LOG switch" >&2; exit 1; }
    # PGXS prepends its include flags to CPPFLAGS; keep PostgreSQL's own.
    cppflags=("CPPFLAGS=$("$pg_config" --cppflags) -DLHV_BENCH_WITHOUT_INSERT_LOG")
  fi
  make -C "$tree" -s -j"$(nproc)" PG_CONFIG="$pg_config" "${cppflags[@]}" >/dev/null
  make -C "$tree" -s install PG_CONFIG="$pg_config" "${cppflags[@]}" >/dev/null
  git -C "$root" worktree remove --force "$tree"
}

# Prints the INSERT rate of the lhv in PostgreSQL copy $1.
measure() {
  local prefix=$1 dir
  dir=$(mktemp -d /tmp/lhv-ab.XXXXXX)
  PG_BINDIR=$prefix/usr/lib/postgresql/15/bin
  lhv_cluster_start "$dir" "lhv.shared_memory_reserved = 256MB" "shared_buffers = 256MB"
  lhv_psql "$dir" -q -c "CREATE EXTENSION lhv; CREATE TABLE t (id serial PRIMARY KEY, v real[]);
    INSERT INTO t (v) SELECT (SELECT array_agg(random()::real) FROM generate_series(1, 784) WHERE g > 0)
      FROM generate_series(1, 20000) g;
    CREATE INDEX ON t USING lhv (v lhv_l2_ops);"
  echo "INSERT INTO t (v) SELECT array_agg(random()::real) FROM generate_series(1, 784);" >"$dir/ins.sql"
  chmod a+r "$dir/ins.sql"
  lhv_as_pg "$PG_BINDIR/pgbench" -n -h "$dir" -U postgres -c 1 -T "$seconds" -f "$dir/ins.sql" postgres 2>/dev/null |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p'
  lhv_cluster_stop "$dir"
}

mkdir -p "$base"
for i in "${!variants[@]}"; do
  echo "insert_ab: building ${variants[$i]}"
  install_variant "${variants[$i]}" "$base/v$i"
done
echo "insert_ab: load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A rates
for round in $(seq "$rounds"); do
  for i in "${!variants[@]}"; do
    rate=$(measure "$base/v$i")
    echo "round $round, ${variants[$i]}: $rate rows/s"
    rates[$i]="${rates[$i]:-} $rate"
  done
done
echo "insert_ab: load average $(cut -d' ' -f1-3 /proc/loadavg)"
first=""
for i in "${!variants[@]}"; do
  median=$(tr ' ' '\n' <<<"${rates[$i]}" | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
  [ -z "$first" ] && first=$median
  echo "${variants[$i]}: median $median rows/s over $rounds rounds, $(awk -v a="$median" -v b="$first" 'BEGIN {printf "%.3f", a / b}') x ${variants[0]}"
done
