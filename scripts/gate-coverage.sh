#!/usr/bin/env bash
# The line and branch coverage of vm/jit/ and vm/interp/ that `bpfdiff gate`
# reaches, from the coverage build (clang-14 -fprofile-instr-generate
# -fcoverage-mapping; llvm-profdata-14 and llvm-cov-14), with every line the
# gate never executes listed by file.
#
#   scripts/gate-coverage.sh [--quick] [--out DIR] [--allow FILE] [--no-build]
#                            [--report-only] [-- GATE ARGS...]
#
# --quick runs `bpfdiff gate --quick` (what CI runs) instead of the full gate;
# arguments after -- go to `bpfdiff gate` as they are. --report-only writes
# the report again from DIR/gate.profdata (after an allow-list edit). The build runs under
# `nice -n 10` with JOBS (default 2) jobs and builds bpfdiff only. Writes
# into DIR (default build/coverage/gate-coverage): gate.profdata, report.txt
# (llvm-cov's per-file table: regions, functions, lines, branches), files.txt
# (per file: lines and branches covered and %, goal files first),
# unreached.txt (file:line and source of every line not executed, each with
# the reason from the allow-list or NOT EXPLAINED), branches.txt (every branch
# with a direction never taken) and summary.txt (what is printed: the table,
# the goal line -- the lines of vm/jit/lower_*.cpp and vm/interp/ together,
# which the gate is meant to reach to at least 98% -- and every unreached goal
# line the allow-list does not explain). The allow-list (--allow, default
# scripts/gate-coverage-allow.txt) names the lines no program can reach, with
# the reason: `FILE | TEXT ON THE LINE | REASON`.
# Exit status: 0 done (whatever the coverage; a gate finding is reported but
# still measured), 2 bad usage or a tool missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

quick=0
build=1
run=1
out=build/coverage/gate-coverage
allow=scripts/gate-coverage-allow.txt
gate_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --report-only) build=0; run=0 ;;
    --out) out=$2; shift ;;
    --allow) allow=$2; shift ;;
    --) shift; gate_args=("$@"); break ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "gate-coverage: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

for tool in llvm-profdata-14 llvm-cov-14; do
  command -v "$tool" >/dev/null || { echo "gate-coverage: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done

if [ "$build" = 1 ]; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$root")}
  cmake --preset coverage >/dev/null
  nice -n 10 cmake --build --preset coverage -j "${JOBS:-2}" --target bpfdiff
fi
bin=build/coverage/bin/bpfdiff
[ -x "$bin" ] || { echo "gate-coverage: $bin missing (run without --no-build)" >&2; exit 2; }

if [ "$run" = 1 ]; then
  rm -rf "$out/profiles"
  mkdir -p "$out/profiles"
  args=(gate --out "$out/findings")
  [ "$quick" = 1 ] && args+=(--quick)
  args+=("${gate_args[@]}")
  echo "gate-coverage: $bin ${args[*]}  (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  start=$(date +%s)
  status=0
  LLVM_PROFILE_FILE="$out/profiles/gate-%p.profraw" "$bin" "${args[@]}" >"$out/gate.txt" 2>"$out/gate.err" ||
    status=$?
  echo "gate-coverage: gate exit status $status after $(( $(date +%s) - start )) s (instrumented);" \
    "$(tail -n 1 "$out/gate.txt")"
  [ "$status" = 0 ] ||
    echo "gate-coverage: the gate found a divergence (see $out/gate.txt); coverage is of the run up to it"
  llvm-profdata-14 merge -sparse "$out"/profiles/*.profraw -o "$out/gate.profdata"
fi
[ -s "$out/gate.profdata" ] || { echo "gate-coverage: no $out/gate.profdata (run without --report-only)" >&2; exit 2; }

# Every file but those of vm/jit/ and vm/interp/ left out by name: llvm-cov
# 14 does not select the files given as arguments here (the mapping names
# them relative to the build directory, as ccache's base-dir rewriting left
# them), so the report script also keeps only those two directories.
others='(^|/)(fuzz|oracle|tests|third_party|_deps)/|/vm/(elf|isa|program|runtime|text|util)/|^/usr/'
cov=(-instr-profile="$out/gate.profdata" "$bin" -ignore-filename-regex="$others")
llvm-cov-14 report "${cov[@]}" -show-branch-summary >"$out/report.txt"
# Instantiations merged: a line of a template (the interpreter's step<>) is
# reached when any instantiation reaches it.
llvm-cov-14 show "${cov[@]}" -show-instantiations=false -show-branches=count -use-color=false >"$out/show.txt"
llvm-cov-14 export -summary-only "${cov[@]}" >"$out/summary.json"
python3 scripts/gate_coverage_report.py "$out/show.txt" "$out/summary.json" "$allow" "$root/" "$out" |
  tee "$out/summary.txt"
