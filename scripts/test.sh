#!/usr/bin/env bash
# README command (b): install everything, build, and pass every test.
#   0. Every C++ source clang-formatted (scripts/format-check.sh).
#   1. Release build with g++-12 (-Werror), all CTest tests.
#   2. ASan + UBSan build with clang-14 (-Werror too, so it is also the clang
#      warning check), all CTest tests.
# Idempotent: reruns reuse the build trees under build/.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout, so a clean clone elsewhere reuses the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
# The -g builds (ASan) would otherwise hash the build directory too and never hit from another clone;
# the cost is debug info naming the directory of the build that filled the cache.
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

bash scripts/install-deps.sh

jobs=$(nproc)
step() { printf '\n==== %s\n' "$*"; }

step "format check (clang-format-14)"
bash scripts/format-check.sh

step "release build (g++)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
step "guest image of the kernel oracle (cached)"
# Without network access to the Debian archive the image cannot be made; the
# end-to-end guest test then reports itself skipped instead of failing.
bash scripts/build-guest.sh --quiet --agent build/release/bin/bpfdiff-agent ||
  echo "test.sh: no guest image; the QEMU end-to-end test will be skipped"

step "release tests (g++)"
ctest --preset release -j "$jobs"

step "ASan + UBSan build (clang-14)"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
step "ASan + UBSan tests"
ctest --preset asan -j "$jobs"

step "all test suites passed"
