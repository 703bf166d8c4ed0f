#!/usr/bin/env bash
# build.sh: builds lhv.so and installs it into the PostgreSQL that pg_config names.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s -j"$(nproc)"
make -s install >/dev/null
echo "build: lhv $(make -s print-version) installed into $(pg_config --pkglibdir)"
