#!/bin/sh
# Fuzzes the Jinja2 renderer on one core.
#   tests/fuzz/run_jinja_fuzz.sh [SECONDS] [extra libFuzzer flags...]
# Builds build/fuzz-jinja (clang, -DEMBER_FUZZ=ON) if needed, seeds tests/fuzz/jinja-corpus-run/
# with tests/fuzz/jinja_seeds (the real chat templates with a context, and a language sampler),
# then runs jinja_fuzz. Findings are written as build/fuzz-jinja/crash-*, leak-*, timeout-* files.

set -eu
cd "$(dirname "$0")/../.."
seconds=${1:-1800}
[ $# -gt 0 ] && shift
if [ ! -f build/fuzz-jinja/build.ninja ]; then
  CC=clang CXX=clang++ cmake -S . -B build/fuzz-jinja -G Ninja -DEMBER_FUZZ=ON -DEMBER_BUILD_BENCH=OFF \
    -DEMBER_VULKAN=OFF -DEMBER_BLAS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C build/fuzz-jinja -j1 jinja_fuzz
mkdir -p build/fuzz-jinja/corpus
cp -n tests/fuzz/jinja_seeds/* build/fuzz-jinja/corpus/ 2>/dev/null || true
exec build/fuzz-jinja/tests/fuzz/jinja_fuzz build/fuzz-jinja/corpus -max_total_time="$seconds" -timeout=20 \
  -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix=build/fuzz-jinja/ "$@"
