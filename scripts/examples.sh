#!/usr/bin/env bash
# examples.sh: runs the client examples in examples/ and the interop test
# with stock hnswlib (test/interop/) against a throwaway cluster with lhv
# preloaded (unix socket only), as an application would use lhv: the
# extension created by a superuser, the application connected as an ordinary
# role that owns its database objects. named_indexes_app.py uses named
# indexes; lhvector_app.py the lhvector type with text and binary parameters.
# Needs lhv installed (scripts/build.sh) and python3-psycopg,
# python3-psycopg2, python3-sqlalchemy, python3-hnswlib.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/cluster.sh"
python=/usr/bin/python3  # Debian's, which has the Debian packages
[ -x "$python" ] || python=python3

dir=$(mktemp -d /tmp/lhv-examples.XXXXXX)
trap 'lhv_cluster_stop "$dir"' EXIT
lhv_cluster_start "$dir"
lhv_psql "$dir" -q -c "CREATE ROLE lhv_app LOGIN" -c "CREATE DATABASE lhv_app OWNER lhv_app"
lhv_psql "$dir" -q -d lhv_app -c "CREATE EXTENSION lhv"
"$python" "$root/examples/named_indexes_app.py" --host "$dir" --user lhv_app --dbname lhv_app
"$python" "$root/examples/lhvector_app.py" --host "$dir" --user lhv_app --dbname lhv_app
"$python" "$root/test/interop/hnswlib_interop.py" --host "$dir" --user lhv_app --dbname lhv_app
