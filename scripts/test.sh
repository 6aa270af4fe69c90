#!/usr/bin/env bash
# README command (b): install everything, build, and pass every test.
#   1. Release build with g++-12 (-Werror), all CTest tests.
#   2. ASan + UBSan build with clang-14 (-Werror too, so it is also the clang
#      warning check), all CTest tests.
# Idempotent: reruns reuse the build trees under build/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

jobs=$(nproc)
step() { printf '\n==== %s\n' "$*"; }

step "release build (g++)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
step "release tests (g++)"
ctest --preset release -j "$jobs"

step "ASan + UBSan build (clang-14)"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
step "ASan + UBSan tests"
ctest --preset asan -j "$jobs"

step "all test suites passed"
