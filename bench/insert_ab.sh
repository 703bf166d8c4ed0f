#!/usr/bin/env bash
# insert_ab.sh: single-row INSERT/s into a 784-d lhv index on 20,000 rows, for
# two git revisions of lhv side by side (e.g. before and after a change to the
# insert path), alternating them ROUNDS times on this machine.
#   bash bench/insert_ab.sh REV_A REV_B [ROUNDS]
# Each revision is built in a git worktree and installed into its own
# relocated copy of PostgreSQL 15 under /var/tmp/lhv-ab (postgres finds its
# share and lib directories relative to its binary), so the system
# installation is not touched. Run as root, like the README commands.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rev_a=$1 rev_b=$2 rounds=${3:-2}
base=/var/tmp/lhv-ab
source "$root/scripts/cluster.sh"

# Builds revision $1 into a PostgreSQL copy at $2.
install_rev() {
  local rev=$1 prefix=$2 tree=$base/tree-$(basename "$2")
  rm -rf "$prefix" "$tree"
  mkdir -p "$prefix/usr/lib/postgresql" "$prefix/usr/share/postgresql" "$prefix/usr/include"
  cp -a /usr/lib/postgresql/15 "$prefix/usr/lib/postgresql/"
  cp -a /usr/share/postgresql/15 "$prefix/usr/share/postgresql/"
  cp -a /usr/include/postgresql "$prefix/usr/include/"
  git -C "$root" worktree add -f -q "$tree" "$rev"
  make -C "$tree" -s -j"$(nproc)" PG_CONFIG="$prefix/usr/lib/postgresql/15/bin/pg_config" >/dev/null
  make -C "$tree" -s install PG_CONFIG="$prefix/usr/lib/postgresql/15/bin/pg_config" >/dev/null
  git -C "$root" worktree remove --force "$tree"
}

# Prints the INSERT rate of the lhv in PostgreSQL copy $1, labelled $2.
measure() {
  local prefix=$1 label=$2 dir
  dir=$(mktemp -d /tmp/lhv-ab.XXXXXX)
  PG_BINDIR=$prefix/usr/lib/postgresql/15/bin
  lhv_cluster_start "$dir" "lhv.shared_memory_reserved = 256MB" "shared_buffers = 256MB"
  lhv_psql "$dir" -q -c "CREATE EXTENSION lhv; CREATE TABLE t (id serial PRIMARY KEY, v real[]);
    INSERT INTO t (v) SELECT (SELECT array_agg(random()::real) FROM generate_series(1, 784) WHERE g > 0)
      FROM generate_series(1, 20000) g;
    CREATE INDEX ON t USING lhv (v lhv_l2_ops);"
  echo "INSERT INTO t (v) SELECT array_agg(random()::real) FROM generate_series(1, 784);" >"$dir/ins.sql"
  chmod a+r "$dir/ins.sql"
  lhv_as_pg "$PG_BINDIR/pgbench" -n -h "$dir" -U postgres -c 1 -T 15 -f "$dir/ins.sql" postgres 2>/dev/null |
    sed -n "s/^tps = \([0-9.]*\).*/$label: \1 rows\/s/p"
  lhv_cluster_stop "$dir"
}

mkdir -p "$base"
install_rev "$rev_a" "$base/a"
install_rev "$rev_b" "$base/b"
for round in $(seq "$rounds"); do
  measure "$base/a" "round $round, $rev_a"
  measure "$base/b" "round $round, $rev_b"
done
