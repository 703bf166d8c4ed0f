#!/usr/bin/env bash
# test.sh: installs what is needed and runs every test suite lhv has:
#   1. engine and codec unit tests (GoogleTest, ctest)
#   2. the concurrency tests again under ThreadSanitizer
#   3. the LHV1 decoder fuzzer for a short time
#   4. build + install, then pg_regress on a temporary instance with lhv preloaded
#   5. the client examples (examples/: psycopg 3 and SQLAlchemy on named indexes)
#      and the interop test with stock hnswlib (test/interop/)
#   6. TAP tests (PostgreSQL::Test::Cluster) for restart, crash and concurrency
# Every suite runs even if an earlier one failed; the exit status is non-zero
# if any failed. LHV_FUZZ_SECONDS (default 60) sets the fuzzing time.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh || exit 1

jobs=$(nproc)
passed=0
failed=0
failed_names=()

# Runs one suite, timing it and recording the outcome.
run_suite() {
  local name=$1; shift
  local t0=$SECONDS
  echo
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: ok ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    failed_names+=("$name")
    echo "=== $name: FAILED ($((SECONDS - t0)) s)"
  fi
}

unit_tests() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build -j"$jobs" &&
    ctest --test-dir build --output-on-failure
}

tsan_tests() {
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLHV_SANITIZER=thread >/dev/null &&
    cmake --build build-tsan -j"$jobs" &&
    TSAN_OPTIONS="halt_on_error=1" ctest --test-dir build-tsan -R Concurrency --output-on-failure
}

pg_tests() {
  bash scripts/build.sh && bash scripts/regress.sh && bash scripts/check-private-clone.sh
}

run_suite "META.json and version" bash scripts/check-meta.sh
run_suite "unit tests (ctest)" unit_tests
run_suite "concurrency under ThreadSanitizer" tsan_tests
run_suite "fuzzing the LHV1 decoder" bash scripts/fuzz.sh "${LHV_FUZZ_SECONDS:-60}"
run_suite "pg_regress" pg_tests
run_suite "examples (psycopg 3, SQLAlchemy) and hnswlib interop" bash scripts/examples.sh
if compgen -G "test/t/*.pl" >/dev/null; then
  run_suite "TAP tests" bash scripts/tap.sh
fi

echo
[ $failed -eq 0 ] || echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
