#!/bin/sh
# Fuzzes the GGUF reader/writer on one core.
#   tests/fuzz/run_gguf_fuzz.sh [SECONDS] [extra libFuzzer flags...]
# Builds build-fuzz (clang, -DEMBER_FUZZ=ON) if needed, seeds tests/fuzz/corpus-run/ with the
# valid seeds, the bad-input corpus and a real vocab file, then runs gguf_fuzz. Findings are
# written as crash-*/leak-*/timeout-* files in the repository root.
set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-1900}
[ $# -gt 0 ] && shift
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DEMBER_FUZZ=ON -DEMBER_BUILD_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C build-fuzz -j1 gguf_fuzz
mkdir -p tests/fuzz/corpus-run
cp -n tests/fuzz/seeds/*.gguf tests/data/bad_gguf/*.gguf tests/data/vocab/ggml-vocab-llama-spm.gguf \
  tests/fuzz/corpus-run/ 2>/dev/null || true
exec build-fuzz/tests/fuzz/gguf_fuzz tests/fuzz/corpus-run -max_total_time="$seconds" -timeout=20 \
  -rss_limit_mb=2048 -print_final_stats=1 "$@"
