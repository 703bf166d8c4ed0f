#!/usr/bin/env bash
# fuzz.sh: builds the LHV1 decoder fuzzer (clang++, libFuzzer + ASan + UBSan)
# in build-fuzz/, seeds a corpus with valid snapshots and runs the fuzzer.
#
#   scripts/fuzz.sh [seconds]      default 60
#
# Exits non-zero when the fuzzer finds a crash; the crashing input is left in
# build-fuzz/fuzz-artifacts/ (replay: build-fuzz/fuzz_lhv1_decode <file>).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${LHV_FUZZ_BUILD_DIR:-$root/build-fuzz}"

cmake -S "$root" -B "$build" -DLHV_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target fuzz_lhv1_decode make_lhv1_corpus

seeds="$build/fuzz-seeds"
corpus="$build/fuzz-corpus"     # grows across runs
artifacts="$build/fuzz-artifacts"
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$artifacts"
"$build/make_lhv1_corpus" "$seeds" "$build/lhv1.dict"

# New inputs go to the first directory; the seeds are read only. The
# fuzzer's progress lines go to a log; its last lines and stats are shown.
log="$build/fuzz.log"
status=0
"$build/fuzz_lhv1_decode" \
    -max_total_time="$seconds" \
    -max_len=16384 \
    -rss_limit_mb=1024 \
    -malloc_limit_mb=256 \
    -dict="$build/lhv1.dict" \
    -artifact_prefix="$artifacts/" \
    -print_final_stats=1 \
    "$corpus" "$seeds" >"$log" 2>&1 || status=$?
grep -E "^(INFO: Seed|INFO: Loaded)" "$log" | head -3 || true
lines=25; [ $status -eq 0 ] || lines=150  # a crash report is long
grep -vE "^#[0-9]+\s+(NEW|REDUCE|pulse)" "$log" | tail -n $lines
exit $status
