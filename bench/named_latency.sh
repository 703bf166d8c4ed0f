#!/usr/bin/env bash
# named_latency.sh: per-call latency of lhv_search against the same query
# written directly on the named index's table (pgbench, one client, prepared
# statements, the query vector from a table of 200, looked up once in both), on 20,000 random 128-d
# vectors, euclidean, ef_search 20 for both. The two alternate for ROUNDS
# rounds of SECONDS each; prints every round and the medians. Then the same
# without client or protocol: 5,000 calls in a plpgsql loop (where the direct
# query is a cached plan), per-call microseconds, ROUNDS times.
#   bash bench/named_latency.sh [ROUNDS [SECONDS]]      (default 5 rounds of 5 s)
# Needs lhv installed (scripts/build.sh; honours PG_CONFIG).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
seconds=${2:-5}
source "$root/scripts/cluster.sh"
dir=$(mktemp -d /tmp/lhv-named-latency.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
lhv_cluster_start "$dir" "lhv.ef_search = 20"
lhv_psql "$dir" -q >/dev/null <<'SQL'
CREATE EXTENSION lhv;
SELECT lhv_create('bench', 128, 'euclidean', ef_search => 20);
SELECT setseed(0.42);
INSERT INTO lhv_data.bench
SELECT 'id' || i, ARRAY(SELECT random()::real FROM generate_series(1, 128) WHERE i > 0), NULL
FROM generate_series(1, 20000) i;
CREATE TABLE qs AS SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 128) WHERE i > 0) AS q
FROM generate_series(1, 200) i;
ALTER TABLE qs ADD PRIMARY KEY (i);
SQL
cat >"$dir/direct.sql" <<'SQL'
\set i random(1, 200)
WITH s AS MATERIALIZED (SELECT q FROM qs WHERE i = :i) SELECT t.id, t.embedding <-> (SELECT q FROM s), t.metadata FROM lhv_data.bench t ORDER BY t.embedding <-> (SELECT q FROM s) LIMIT 10;
SQL
cat >"$dir/lhv_search.sql" <<'SQL'
\set i random(1, 200)
SELECT * FROM lhv_search('bench', (SELECT q FROM qs WHERE i = :i), 10);
SQL
cat >"$dir/query_only.sql" <<'SQL'
\set i random(1, 200)
SELECT q FROM qs WHERE i = :i;
SQL
chmod a+r "$dir"/*.sql
# The direct query must be an index scan (lhv_search's is, by construction).
lhv_psql "$dir" -c "EXPLAIN (COSTS OFF) SELECT t.id FROM lhv_data.bench t ORDER BY t.embedding <-> (SELECT q FROM qs WHERE i = 1) LIMIT 10" | grep -q "Index Scan using" || { echo "named_latency: the direct query does not use the index" >&2; exit 1; }
declare -A all
for r in $(seq 1 "$rounds"); do
  for s in direct lhv_search query_only; do
    ms=$(lhv_as_pg "$PG_BINDIR/pgbench" -h "$dir" -U postgres -n -M prepared -c 1 -T "$seconds" -f "$dir/$s.sql" postgres 2>/dev/null |
         sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p')
    echo "round $r: $s $ms ms"
    all[$s]="${all[$s]:-} $ms"
  done
done
for s in direct lhv_search query_only; do
  echo "median $s: $(tr ' ' '\n' <<<"${all[$s]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') ms"
done

# In-server: per-call cost with no client round trip.
for r in $(seq 1 "$rounds"); do
  lhv_psql "$dir" -q -At <<'SQL'
SET lhv.ef_search = 20;
DO $$
DECLARE v real[]; t0 timestamptz; direct float8; named float8; n int := 5000;
BEGIN
  t0 := clock_timestamp();
  FOR j IN 1..n LOOP
    SELECT q INTO v FROM qs WHERE qs.i = 1 + j % 200;
    PERFORM t.id, t.embedding <-> v, t.metadata FROM lhv_data.bench t ORDER BY t.embedding <-> v LIMIT 10;
  END LOOP;
  direct := extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
  t0 := clock_timestamp();
  FOR j IN 1..n LOOP
    SELECT q INTO v FROM qs WHERE qs.i = 1 + j % 200;
    PERFORM * FROM lhv_search('bench', v, 10);
  END LOOP;
  named := extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
  RAISE NOTICE 'in-server: direct % us, lhv_search % us per call', round(direct::numeric, 1), round(named::numeric, 1);
END $$;
SQL
done
