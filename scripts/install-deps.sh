#!/usr/bin/env bash
# install-deps.sh: installs every Debian 12 package lhv needs to build, test,
# run its demo and its benchmarks. Idempotent: skips apt when all are present.
# Must run as root (it is what the README commands do first).
set -euo pipefail

packages=(
  # build
  build-essential g++ cmake make pkgconf
  postgresql-15 postgresql-server-dev-15
  libhnswlib-dev nlohmann-json3-dev
  # tests: GoogleTest, TAP (PostgreSQL::Test::Cluster needs IPC::Run), fuzzing
  libgtest-dev googletest libipc-run-perl clang libclang-rt-14-dev
  # demo and benchmarks: data set, loaders, plots
  dataset-fashion-mnist python3 python3-numpy python3-psycopg2 python3-matplotlib python3-hnswlib
  # numpy with an optimised BLAS, for exact ground truth in seconds, not minutes
  libopenblas0-pthread
  # examples/: client code on named indexes
  python3-psycopg python3-sqlalchemy
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# Debian's postgresql-common creates a default cluster; lhv's scripts use
# their own throwaway clusters, so stop it if it was started.
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h 2>/dev/null | awk '$4=="online"{print $1, $2}' | while read -r v c; do
    pg_ctlcluster "$v" "$c" stop || true
  done
fi
echo "install-deps: done"
