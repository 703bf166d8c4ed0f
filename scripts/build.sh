#!/usr/bin/env bash
# build.sh: builds lhv.so and installs it into the PostgreSQL that $PG_CONFIG
# (default: the pg_config on PATH) names.
set -euo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-pg_config}
make -s -j"$(nproc)"
make -s install >/dev/null
echo "build: lhv $(make -s print-version) installed into $("$PG_CONFIG" --pkglibdir)"
