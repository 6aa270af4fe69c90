#!/usr/bin/env bash
# Fuzzing throughput: executions per second of the interp-vs-JIT libFuzzer
# targets, on generated programs (interp_vs_jit_gen: the input is the
# generator's decisions) and on raw bytes (interp_vs_jit_raw), the latter with
# the instruction-aware custom mutator on and off (BPFDIFF_CUSTOM_MUTATOR=0:
# every mutation goes to libFuzzer's byte mutator; the custom crossover stays).
# Each row is one libFuzzer process on one core for SECONDS, started from a
# copy of the target's seeds with its dictionary and a fixed -seed; executions
# from -print_final_stats=1, over the run's wall-clock time (exec/s) and over
# the CPU time (user + system, /usr/bin/time) it used (exec/cpu-s: what a
# loaded machine disturbs less). The binaries are the fuzz preset's (ASan + UBSan +
# coverage instrumentation), so these are campaign speeds, not VM speeds.
#
#   cmake --preset fuzz && cmake --build build/fuzz -j2 --target fuzz_interp_vs_jit_gen fuzz_interp_vs_jit_raw
#   SECONDS_PER_RUN=30 bash scripts/fuzz-bench.sh          # prints a table; JSON=1 for JSON lines
#
# Settings: BUILD (default build/fuzz), SECONDS_PER_RUN (default 30),
# ROWS (default "gen raw:on raw:off insn"; a target without its binary is skipped).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD:-build/fuzz}
seconds=${SECONDS_PER_RUN:-30}
rows=${ROWS:-"gen raw:on raw:off insn"}
json=${JSON:-0}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

stat_of() { sed -n "s/^stat::$1: *//p" "$2" | tail -1; }

if [[ "$json" != 1 ]]; then
  printf '%-20s %-8s %8s %12s %10s %11s %8s %8s\n' target mutator seconds executions "exec/s" "exec/cpu-s" cov ft
fi
for row in $rows; do
  short=${row%%:*}
  mutator=${row#*:}
  [[ "$mutator" == "$row" ]] && mutator=n/a
  target=interp_vs_jit_$short
  bin=$build/fuzz/fuzz_$target
  if [[ ! -x "$bin" ]]; then
    echo "fuzz-bench: no $bin (build it with the fuzz preset); skipping $row" >&2
    continue
  fi
  corpus=$work/$row/corpus
  mkdir -p "$corpus"
  cp -r "corpus/fuzz/$target/." "$corpus/" 2>/dev/null || true
  args=(-max_total_time="$seconds" -print_final_stats=1 -seed=1 -close_fd_mask=3)
  [[ -f "fuzz/dict/$target.dict" ]] && args+=(-dict="fuzz/dict/$target.dict")
  env_mutator=1
  [[ "$mutator" == off ]] && env_mutator=0
  log=$work/$row/log
  # A crash ends the run early; the numbers up to it still count.
  start=$(date +%s.%N)
  BPFDIFF_CUSTOM_MUTATOR=$env_mutator /usr/bin/time -o "$work/$row/time" -f "%U %S" \
    "$bin" "${args[@]}" -artifact_prefix="$work/$row/" "$corpus" >"$log" 2>&1 || true
  end=$(date +%s.%N)
  execs=$(stat_of number_of_executed_units "$log")
  # Executions over the process's whole life, seed loading included (as
  # libFuzzer's own average_exec_per_sec, which it rounds and which a crash
  # cuts short), so the rows compare like with like.
  per_sec=$(awk -v n="${execs:-0}" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }')
  # The last line: /usr/bin/time notes a non-zero exit status above it.
  per_cpu=$(tail -1 "$work/$row/time" | awk -v n="${execs:-0}" '{ t = $1 + $2; printf "%.0f", (t > 0 ? n / t : 0) }')
  final=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$final")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$final")
  if [[ -z "$execs" ]]; then
    echo "fuzz-bench: $row printed no final stats (see below)" >&2
    tail -20 "$log" >&2
    continue
  fi
  if [[ "$json" == 1 ]]; then
    printf '{"target":"%s","mutator":"%s","seconds":%s,"executions":%s,"exec_per_sec":%s,"exec_per_cpu_sec":%s,"cov":%s,"ft":%s}\n' \
      "$target" "$mutator" "$seconds" "$execs" "$per_sec" "$per_cpu" "${cov:-0}" "${ft:-0}"
  else
    printf '%-20s %-8s %8s %12s %10s %11s %8s %8s\n' "$target" "$mutator" "$seconds" "$execs" "$per_sec" \
      "$per_cpu" "${cov:--}" "${ft:--}"
  fi
done
