#!/usr/bin/env bash
# The README's performance table: builds jit_bench (release preset) and runs
# the per-run overhead, the kernel-comparison workloads and the compile-time
# rows in one process, then prints the Markdown table (ratios are of rows of
# this one run). The kernel column needs bpf() (root or CAP_BPF+CAP_PERFMON);
# elsewhere those rows are skipped and show 0.
#
#   scripts/perf-table.sh              # MIN_TIME=0.2 seconds per row by default
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$PWD")}
cmake --preset release >/dev/null
cmake --build build/release -j2 --target jit_bench >/dev/null
build/release/tests/bench/jit_bench --benchmark_filter='^(Overhead|Kernel|Compile/[a-z0-9]+/jit$)' \
  --benchmark_min_time="${MIN_TIME:-0.2}" | sed -n '/^| measure/,$p'
