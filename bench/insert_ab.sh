#!/usr/bin/env bash
# insert_ab.sh: single-row INSERTs into a 784-d lhv index on 20,000 rows, for
# several git revisions of lhv side by side (e.g. before and after a change to
# the insert path), alternating them ROUNDS times on this machine.
#   bash bench/insert_ab.sh [--rounds N] [--rows R] REV...
#   bash bench/insert_ab.sh 721db3f HEAD:nolog HEAD
# REV:nolog builds REV with LHV_BENCH_WITHOUT_INSERT_LOG, so that its INSERTs
# write no change log entry (nothing they add survives a restart): with REV
# itself, the cost of the change log alone, measured in one run. Needs a
# revision that has the switch (src/pg/storage/change_log.cpp).
# Each variant is built into its own relocated copy of PostgreSQL 15 under
# /var/tmp/lhv-ab (bench/ab_build.sh; a copy of the same build is reused), so
# the system installation is not touched. Run as root, like the README
# commands.
#
# Per variant a cluster with the table and its index is made once; each run
# starts a copy of it, answers one query through the index (the graph is then
# in memory, loaded or rebuilt), and one client sends R INSERT statements
# (psql, one round trip each, as pgbench -c 1 would). Two figures per run:
# rows/s (wall clock), and the CPU time the server backend spent per row
# (utime + stime of its /proc/self/stat, read through pg_read_file before and
# after), which other load on the machine disturbs less. Rounds run the
# variants in turn, every other round in reverse order. Printed: each run, then
# per variant the medians, and for each pair of variants the median over rounds
# of their ratio in the same round (the figure to read on a shared machine).
#
# --instructions N: instead, count the user-space instructions each INSERT
# costs, which no other load disturbs: a single-user backend (postgres
# --single) on a copy of the variant's cluster runs under valgrind's callgrind
# twice, with the same setseed(), once for the warm-up query alone and once
# with N INSERTs after it; the difference over N is printed. Kernel time (WAL
# and file writes) is not counted. A revision that rebuilds its graph from the
# table at first access (those before the storage layer, e.g. 721db3f) pays
# that rebuild under valgrind in both runs: allow many minutes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=6 rows=3000 instructions=0
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --instructions) instructions=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: bash bench/insert_ab.sh [--rounds N] [--rows R] REV..." >&2; exit 2; }
variants=("$@")
base=/var/tmp/lhv-ab
source "$root/bench/ab_build.sh"
source "$root/scripts/cluster.sh"
prefixes=()
bindir_of() { echo "${prefixes[$1]}/usr/lib/postgresql/15/bin"; }

# Builds variant $1 (REV or REV:nolog), the variant number $2.
install_variant() {
  local variant=$1 rev=${1%:nolog} flags=()
  if [ "$variant" != "$rev" ]; then
    git -C "$root" show "$rev:src/pg/storage/change_log.cpp" | grep -q LHV_BENCH_WITHOUT_INSERT_LOG ||
      { echo "insert_ab: $rev has no LHV_BENCH_WITHOUT_INSERT_LOG switch" >&2; exit 1; }
    flags=(-DLHV_BENCH_WITHOUT_INSERT_LOG)
  fi
  prefixes[$2]=$(lhv_ab_prefix "$rev" "${flags[@]}")
  lhv_ab_install "$rev" "${prefixes[$2]}" "${flags[@]}"
}

# Makes the template cluster of variant $1 in $2: the table, its index, stopped.
make_template() {
  local i=$1 dir=$2
  PG_BINDIR=$(bindir_of "$i")
  rm -rf "$dir"
  # The same rows and, built by one thread, the same graph for every variant,
  # whether it loads the graph at first access or rebuilds it from the table.
  lhv_cluster_start "$dir" "lhv.shared_memory_reserved = 256MB" "shared_buffers = 256MB" "lhv.build_threads = 1"
  lhv_psql "$dir" -q -c "CREATE EXTENSION lhv; CREATE TABLE t (id serial PRIMARY KEY, v real[]);
    SELECT setseed(0.42);
    INSERT INTO t (v) SELECT (SELECT array_agg(random()::real) FROM generate_series(1, 784) WHERE g > 0)
      FROM generate_series(1, 20000) g;
    CREATE INDEX ON t USING lhv (v lhv_l2_ops);"
  lhv_psql "$dir" -q -c "VACUUM ANALYZE t" -c "CHECKPOINT"
  lhv_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}

# CPU seconds (utime + stime) in a /proc/PID/stat line.
cpu_seconds() {
  awk -v ticks="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / ticks }' <<<"$1"
}

# Prints "rows/s cpu_ms_per_row" for a run of variant $1 (template in $2).
measure() {
  local i=$1 template=$2 dir out t0 t1 stat0 stat1
  PG_BINDIR=$(bindir_of "$i")
  dir=$(mktemp -d /tmp/lhv-ab.XXXXXX)
  cp -a "$template/data" "$dir/data"
  sed -i "s|^unix_socket_directories = .*|unix_socket_directories = '$dir'|" "$dir/data/postgresql.conf"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
  lhv_as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
  {
    echo "SET enable_seqscan = off;"
    echo "SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 1) LIMIT 1) s;"
    echo "SELECT 'mark', rtrim(pg_read_file('/proc/self/stat'), E'\\n'), extract(epoch FROM clock_timestamp());"
    for _ in $(seq "$rows"); do
      echo "INSERT INTO t (v) SELECT array_agg(random()::real) FROM generate_series(1, 784);"
    done
    echo "SELECT 'mark', rtrim(pg_read_file('/proc/self/stat'), E'\\n'), extract(epoch FROM clock_timestamp());"
  } >"$dir/ins.sql"
  chmod a+r "$dir/ins.sql"
  out=$(lhv_psql "$dir" -q -At -F '|' -f "$dir/ins.sql" | grep '^mark|')
  lhv_cluster_stop "$dir"
  stat0=$(sed -n 1p <<<"$out" | cut -d'|' -f2) t0=$(sed -n 1p <<<"$out" | cut -d'|' -f3)
  stat1=$(sed -n 2p <<<"$out" | cut -d'|' -f2) t1=$(sed -n 2p <<<"$out" | cut -d'|' -f3)
  awk -v n="$rows" -v t0="$t0" -v t1="$t1" -v c0="$(cpu_seconds "$stat0")" -v c1="$(cpu_seconds "$stat1")" \
    'BEGIN { printf "%.1f %.4f\n", n / (t1 - t0), 1000 * (c1 - c0) / n }'
}

# Prints the instructions callgrind counts for a single-user backend of
# variant $1 (template in $2) running the warm-up and $3 INSERTs.
count_instructions() {
  local i=$1 template=$2 n=$3 dir
  dir=$(mktemp -d /tmp/lhv-ab.XXXXXX)
  cp -a "$template/data" "$dir/data"
  {
    echo "SELECT setseed(0.5);"
    echo "SET enable_seqscan = off;"
    echo "SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 1) LIMIT 1) s;"
    for _ in $(seq "$n"); do
      echo "INSERT INTO t (v) SELECT array_agg(random()::real) FROM generate_series(1, 784);"
    done
  } >"$dir/ins.sql"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
  lhv_as_pg valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
    "$(bindir_of "$i")/postgres" --single -D "$dir/data" -c shared_preload_libraries=lhv postgres \
    <"$dir/ins.sql" >"$dir/valgrind.log" 2>&1
  sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$dir/valgrind.log"
  rm -rf "$dir"
}

# The median of the numbers on stdin, one per line.
median() {
  sed '/^$/d' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

mkdir -p "$base"
for i in "${!variants[@]}"; do
  install_variant "${variants[$i]}" "$i"
  echo "insert_ab: template cluster of ${variants[$i]}"
  make_template "$i" "$base/template-v$i"
done
if [ "$instructions" -gt 0 ]; then
  declare -A per_insert
  for i in "${!variants[@]}"; do
    a=$(count_instructions "$i" "$base/template-v$i" 0)
    b=$(count_instructions "$i" "$base/template-v$i" "$instructions")
    per_insert[$i]=$(( (b - a) / instructions ))
    echo "${variants[$i]}: ${per_insert[$i]} instructions per INSERT (callgrind, $instructions INSERTs)"
  done
  for i in "${!variants[@]}"; do
    for ((j = 0; j < i; j++)); do
      awk -v a="${per_insert[$i]}" -v b="${per_insert[$j]}" -v x="${variants[$i]}" -v y="${variants[$j]}" \
        'BEGIN { printf "%s / %s: instructions per INSERT %.4f\n", x, y, a / b }'
    done
  done
  exit 0
fi
echo "insert_ab: $rows INSERTs per run; load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A rate cpu
order=("${!variants[@]}")
for round in $(seq "$rounds"); do
  for i in "${order[@]}"; do
    read -r rate["$round,$i"] cpu["$round,$i"] < <(measure "$i" "$base/template-v$i")
    echo "round $round, ${variants[$i]}: ${rate[$round,$i]} rows/s, backend CPU ${cpu[$round,$i]} ms per row"
  done
  # ABBA: every other round the other way round, so a drift in the machine's
  # load does not favour one variant.
  mapfile -t order < <(printf '%s\n' "${order[@]}" | tac)
done
echo "insert_ab: load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in "${!variants[@]}"; do
  r=$(for k in $(seq "$rounds"); do echo "${rate[$k,$i]}"; done | median)
  c=$(for k in $(seq "$rounds"); do echo "${cpu[$k,$i]}"; done | median)
  printf '%s: median %.1f rows/s, %.3f ms backend CPU per row (%d rounds)\n' "${variants[$i]}" "$r" "$c" "$rounds"
done
# Each variant against each one before it, round by round (the two ran
# minutes apart at most): the medians of those ratios.
for i in "${!variants[@]}"; do
  for ((j = 0; j < i; j++)); do
    rr=$(for k in $(seq "$rounds"); do awk -v a="${rate[$k,$i]}" -v b="${rate[$k,$j]}" 'BEGIN { print a / b }'; done | median)
    cr=$(for k in $(seq "$rounds"); do awk -v a="${cpu[$k,$i]}" -v b="${cpu[$k,$j]}" 'BEGIN { print a / b }'; done | median)
    printf '%s / %s: rows/s %.3f, backend CPU per row %.3f (medians of the per-round ratios)\n' \
      "${variants[$i]}" "${variants[$j]}" "$rr" "$cr"
  done
done
