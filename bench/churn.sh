#!/usr/bin/env bash
# churn.sh: does an lhv graph decay under UPDATE/DELETE churn? The scenario of
# issue 9 item 10: ROWS uniform vectors of DIM dimensions, then SECONDS of
# CLIENTS pgbench clients (search 10, insert 3, delete 2, update 1, by weight)
# with VACUUM every 10 s. Then, on the rows left: how many of 500 sampled rows
# their own vector finds first at ef_search 200, recall@10 of 200 queries at
# ef_search 40 against brute force, and the graph's elements and memory; then
# the same after REINDEX (a fresh build of the same rows), for comparison.
# Builds and installs lhv (honouring PG_CONFIG) unless LHV_SKIP_BUILD is set.
#   bash bench/churn.sh [SECONDS] [CLIENTS] [ROWS] [DIM]     defaults 120 16 30000 64
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-120} clients=${2:-16} rows=${3:-30000} dim=${4:-64}
[ -n "${LHV_SKIP_BUILD:-}" ] || bash "$root/scripts/build.sh"
source "$root/scripts/cluster.sh"
dir=$(mktemp -d /tmp/lhv-churn.XXXXXX)
trap 'kill "${vacuum_loop:-}" 2>/dev/null || true; lhv_cluster_stop "$dir"' EXIT
lhv_cluster_start "$dir" "lhv.shared_memory_reserved = 256MB" "shared_buffers = 256MB" "max_connections = 60"
sql() { lhv_psql "$dir" -qAt "$@"; }

vec="ARRAY(SELECT random()::real FROM generate_series(1, $dim) WHERE g IS NOT NULL)"
sql <<SQL
CREATE EXTENSION lhv;
SELECT setseed(0.42);
CREATE TABLE churn (id bigserial PRIMARY KEY, v real[] NOT NULL) WITH (autovacuum_enabled = off);
INSERT INTO churn (v) SELECT $vec FROM generate_series(1, $rows) g;
CREATE INDEX churn_v ON churn USING lhv (v lhv_l2_ops);
CREATE TABLE churn_queries (qid int PRIMARY KEY, q real[]);
INSERT INTO churn_queries SELECT g, $vec FROM generate_series(1, 200) g;
SQL

# A row picked at random among the live ones (ids only grow).
pick="(SELECT id FROM churn WHERE id >= (SELECT (random() * max(id))::bigint FROM churn) ORDER BY id LIMIT 1)"
one="ARRAY(SELECT random()::real FROM generate_series(1, $dim))"
echo "SELECT id FROM churn ORDER BY v <-> $one LIMIT 10;" >"$dir/search.sql"
echo "INSERT INTO churn (v) VALUES ($one);" >"$dir/insert.sql"
echo "DELETE FROM churn WHERE id = $pick;" >"$dir/delete.sql"
echo "UPDATE churn SET v = $one WHERE id = $pick;" >"$dir/update.sql"
chmod a+r "$dir"/*.sql

# Each VACUUM's repair pass is logged at DEBUG1: keep those lines.
(while sleep 10; do
   sql -c "SET client_min_messages = debug1" -c "VACUUM churn" 2>&1 | grep -o 'repaired .*' >>"$dir/vacuum.log" || true
 done) &
vacuum_loop=$!
echo "churn: $rows x $dim, $clients clients for $seconds s (search 10, insert 3, delete 2, update 1), VACUUM every 10 s"
lhv_as_pg "$PG_BINDIR/pgbench" -n -h "$dir" -U postgres -c "$clients" -j 2 -T "$seconds" \
  -f "$dir/search.sql@10" -f "$dir/insert.sql@3" -f "$dir/delete.sql@2" -f "$dir/update.sql@1" postgres 2>&1 |
  grep -E "^(number of transactions actually processed|tps)"
kill "$vacuum_loop" 2>/dev/null || true
wait "$vacuum_loop" 2>/dev/null || true
sql -c "VACUUM churn"

sql <<SQL >/dev/null
SELECT setseed(0.5);
CREATE TABLE churn_sample AS SELECT id, v FROM churn ORDER BY random() LIMIT 500;
SET enable_indexscan = off;
CREATE TABLE churn_exact AS
  SELECT qid, id FROM churn_queries, LATERAL (SELECT id FROM churn ORDER BY v <-> q LIMIT 10) s;
SQL

# Prints: found-by-own-vector (of 500), recall@10, elements, deleted, graph MB.
measure() {
  sql <<SQL
SET enable_seqscan = off;
SET lhv.ef_search = 200;
SELECT count(*) FROM churn_sample a WHERE (SELECT id FROM churn b ORDER BY b.v <-> a.v LIMIT 1) = a.id;
SET lhv.ef_search = 40;
SELECT round(count(*) / 2000.0, 4) FROM churn_queries,
  LATERAL (SELECT id FROM churn ORDER BY v <-> q LIMIT 10) s
  JOIN churn_exact e USING (id) WHERE e.qid = churn_queries.qid;
SELECT elements, deleted, round(graph_bytes / 1048576.0, 1) FROM lhv_indexes WHERE index = 'churn_v'::regclass;
SQL
}
live=$(sql -c "SELECT count(*) FROM churn")
read -r -d '' churned_found churned_recall churned_graph < <(measure | tr '\n' ' ') || true
sql -c "REINDEX INDEX churn_v"
read -r -d '' fresh_found fresh_recall fresh_graph < <(measure | tr '\n' ' ') || true
echo
echo "| graph ($live live rows) | found by own vector (of 500, ef 200) | recall@10 (ef 40) | elements, deleted, MB |"
echo "| --- | --- | --- | --- |"
echo "| after churn | $churned_found | $churned_recall | ${churned_graph//|/, } |"
echo "| fresh build (REINDEX) | $fresh_found | $fresh_recall | ${fresh_graph//|/, } |"
echo
echo "VACUUM repair passes during the churn:"
sed 's/^/  /' "$dir/vacuum.log" 2>/dev/null || true
