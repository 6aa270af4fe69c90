#!/usr/bin/env bash
# The line and branch coverage of vm/jit/ and vm/interp/ that `bpfdiff gate`
# reaches, from the coverage build (clang-14 -fprofile-instr-generate
# -fcoverage-mapping; llvm-profdata-14 and llvm-cov-14), with every line the
# gate never executes listed by file.
#
#   scripts/gate-coverage.sh [--quick] [--out DIR] [--no-build] [-- GATE ARGS...]
#
# --quick runs `bpfdiff gate --quick` (what CI runs) instead of the full gate;
# arguments after -- go to `bpfdiff gate` as they are. Writes into DIR
# (default build/coverage/gate-coverage): gate.profdata, report.txt (per-file
# table: regions, functions, lines, branches), unreached.txt (file:line and
# source of every line not executed) and branches.txt (every branch with a
# direction never taken), and prints the totals and the goal line: the lines
# of vm/jit/lower_*.cpp and vm/interp/ together, which the gate is meant to
# reach to at least 98%.
# Exit status: 0 done (whatever the coverage; a gate finding is reported but
# still measured), 2 bad usage or a tool missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

quick=0
build=1
out=build/coverage/gate-coverage
gate_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --out) out=$2; shift ;;
    --) shift; gate_args=("$@"); break ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
  cmake --build --preset coverage -j "${JOBS:-2}" --target bpfdiff
fi
bin=build/coverage/bin/bpfdiff
[ -x "$bin" ] || { echo "gate-coverage: $bin missing (run without --no-build)" >&2; exit 2; }

rm -rf "$out/profiles"
mkdir -p "$out/profiles"
args=(gate --out "$out/findings")
[ "$quick" = 1 ] && args+=(--quick)
args+=("${gate_args[@]}")
echo "gate-coverage: $bin ${args[*]}  (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
start=$(date +%s)
status=0
LLVM_PROFILE_FILE="$out/profiles/gate-%p.profraw" "$bin" "${args[@]}" >"$out/gate.txt" 2>"$out/gate.err" || status=$?
echo "gate-coverage: gate exit status $status after $(( $(date +%s) - start )) s (instrumented); $(tail -n 1 "$out/gate.txt")"
[ "$status" = 0 ] || echo "gate-coverage: the gate found a divergence (see $out/gate.txt); coverage is of the run up to it"

llvm-profdata-14 merge -sparse "$out"/profiles/*.profraw -o "$out/gate.profdata"

mapfile -t sources < <(find vm/jit vm/interp -name '*.cpp' | sort)
cov=(llvm-cov-14 -instr-profile="$out/gate.profdata" "$bin")
llvm-cov-14 report -instr-profile="$out/gate.profdata" "$bin" -show-branch-summary "${sources[@]}" >"$out/report.txt"

# `llvm-cov show` prints "  LINE|  COUNT|source" per line (COUNT empty where
# no code is) and, with -show-branches=count, "  |  Branch (L:C): [True: N, False: M]".
"${cov[0]}" show "${cov[@]:1}" -show-branches=count -use-color=false "${sources[@]}" |
  awk -v root="$root/" '
    /^\/.*:$/ { file = substr($0, 1, length($0) - 1); sub(root, "", file); next }
    /Branch \(/ {
      if ($0 ~ /True: 0,/ || $0 ~ /False: 0\]/) {
        line = $0; sub(/^[ |]*/, "", line); print file ": " line > branches
      }
      next
    }
    {
      split($0, f, "|")
      if (length(f) < 3) next
      count = f[2]; gsub(/ /, "", count)
      lineno = f[1]; gsub(/ /, "", lineno)
      if (count == "0") {
        src = substr($0, index($0, f[3]))
        print file ":" lineno ": " src > unreached
      }
    }' unreached="$out/unreached.txt" branches="$out/branches.txt"
touch "$out/unreached.txt" "$out/branches.txt"

# Totals over the files whose path (relative to the root) matches a regular
# expression, from llvm-cov's JSON summary (absolute file names).
"${cov[0]}" export -summary-only "${cov[@]:1}" "${sources[@]}" >"$out/summary.json"
sum_rows() {
  python3 - "$out/summary.json" "$root/" "$1" <<'PY'
import json, re, sys
data = json.load(open(sys.argv[1]))["data"][0]["files"]
root, pattern = sys.argv[2], re.compile(sys.argv[3])
lines = covered = branches = taken = 0
for f in data:
    name = f["filename"][len(root):] if f["filename"].startswith(root) else f["filename"]
    if not pattern.search(name):
        continue
    s = f["summary"]
    lines += s["lines"]["count"]; covered += s["lines"]["covered"]
    branches += s["branches"]["count"]; taken += s["branches"]["covered"]
pct = lambda a, b: 100.0 * a / b if b else 0.0
print(f"lines {covered}/{lines} ({pct(covered, lines):.2f}%), branches {taken}/{branches} ({pct(taken, branches):.2f}%)")
PY
}

echo "gate-coverage: vm/jit/ and vm/interp/: $(sum_rows '^vm/(jit|interp)/')"
echo "gate-coverage: goal files (vm/jit/lower_*.cpp, vm/interp/): $(sum_rows '^vm/(jit/lower_[a-z_]*\.cpp|interp/)')"
echo "gate-coverage: per file: $out/report.txt"
echo "gate-coverage: $(grep -c . "$out/unreached.txt" || true) lines not reached: $out/unreached.txt"
echo "gate-coverage: $(grep -c . "$out/branches.txt" || true) branches with a direction never taken: $out/branches.txt"
grep -E '^vm/(jit/lower_|interp/)' "$out/unreached.txt" || true
