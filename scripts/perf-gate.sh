#!/usr/bin/env bash
# Performance gate for JIT changes: compares the JIT's run time and code size
# on every benchmark program (jit_bench's Throughput/<workload>/jit rows)
# between a base build and this one, and fails on a regression beyond the
# thresholds.
#
#   scripts/perf-gate.sh BASE            # BASE: a build directory or a git revision
#   scripts/perf-gate.sh HEAD~1          # e.g. gate the last commit
#   scripts/perf-gate.sh /work/main/build/release
#
# BASE as a git revision is checked out (git worktree, detached) under
# build/perf-gate/ and its jit_bench built there with the release preset
# (ccache makes unchanged objects cheap). This checkout's jit_bench is
# built first (HEAD_BUILD, default build/release).
#
# Noise: the two builds run alternately, ROUNDS times (base first in odd
# rounds, head first in even ones), so a load change on a shared machine hits
# both; times are CPU time per program run (not wall clock), and the verdict
# uses the median of the rounds. Code size is exact.
#
# Settings: ROUNDS (default 5), MIN_TIME (seconds per benchmark and round,
# default 0.2), TIME_THRESHOLD (default 0.05: fail when head is more than 5%
# slower), SIZE_THRESHOLD (default 0.01: fail when head's code is more than
# 1% larger), FILTER (default '^Throughput/[a-z]+/jit$'; add e.g.
# '|^Kernel/' for more rows). Exit status: 0 pass, 1 regression, 2 bad setup.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [[ $# -ne 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 2
fi
base=$1
head_build=${HEAD_BUILD:-build/release}
rounds=${ROUNDS:-5}
min_time=${MIN_TIME:-0.2}
time_threshold=${TIME_THRESHOLD:-0.05}
size_threshold=${SIZE_THRESHOLD:-0.01}
filter=${FILTER:-'^Throughput/[a-z]+/jit$'}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$root")}

build_bench() {  # source dir, build dir
  (cd "$1" && cmake --preset release >/dev/null && cmake --build "$2" -j2 --target jit_bench >/dev/null) ||
    { echo "perf gate: building jit_bench in $1 failed" >&2; exit 2; }
}

if [[ "$head_build" == build/release ]]; then build_bench "$root" build/release; fi
head_bin=$head_build/tests/bench/jit_bench
[[ -x "$head_bin" ]] || { echo "perf gate: no $head_bin" >&2; exit 2; }

if [[ -d "$base" ]]; then
  base_bin=$base/tests/bench/jit_bench
  base_label=$base
else
  sha=$(git rev-parse --verify --quiet "$base^{commit}") ||
    { echo "perf gate: '$base' is neither a build directory nor a git revision" >&2; exit 2; }
  src=build/perf-gate/src-${sha:0:12}
  if [[ ! -d "$src" ]]; then
    mkdir -p build/perf-gate
    git worktree add --detach "$src" "$sha" >/dev/null 2>&1 ||
      { echo "perf gate: git worktree add $src failed" >&2; exit 2; }
  fi
  build_bench "$src" build/release
  base_bin=$src/build/release/tests/bench/jit_bench
  base_label="$base (${sha:0:12})"
fi
[[ -x "$base_bin" ]] || { echo "perf gate: no $base_bin" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/base" "$work/head"
run() {  # binary, output file
  "$1" --benchmark_filter="$filter" --benchmark_min_time="$min_time" --benchmark_out="$2" \
    --benchmark_out_format=json >/dev/null 2>&1 || { echo "perf gate: $1 failed" >&2; exit 2; }
}
echo "perf gate: base $base_label vs head $head_build, $rounds interleaved rounds" >&2
for ((r = 1; r <= rounds; ++r)); do
  if ((r % 2)); then
    run "$base_bin" "$work/base/round-$r.json"
    run "$head_bin" "$work/head/round-$r.json"
  else
    run "$head_bin" "$work/head/round-$r.json"
    run "$base_bin" "$work/base/round-$r.json"
  fi
  echo "  round $r/$rounds done" >&2
done
python3 scripts/perf_gate_compare.py "$time_threshold" "$size_threshold" "$work/base" "$work/head"
