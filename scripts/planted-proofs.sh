#!/usr/bin/env bash
# Proves, repeatably, that the Z3 translation validation of the JIT's memory
# and call lowering catches a fault planted in the JIT itself, and that its
# counterexample is a real regression test. For each planted bug (the CMake
# option BPFDIFF_PLANT_JIT_BUG, one build directory each, build/planted-mem-bounds,
# build/planted-call-depth, build/planted-mem-writable-unchecked, ...;
# no normal build and no option of any command can turn one on):
#   mem-bounds-off-by-one   the bounds check of a load or store ends one byte short
#   call-depth-off-by-one   a local call may go one frame deeper than the limit
#   mem-writable-unchecked  stores and atomics skip the writable check
#   budget-charge-short     a block is charged one instruction less than it runs
#   callx-target-unaligned  callx calls a function through a code address 1..7
#                           bytes past its start (the interpreter refuses it)
#   packet-bounds-off-by-one  a legacy packet load may read one byte past the
#                           packet (the interpreter ends the program, r0 = 0)
#   helper-result-dropped   r0 keeps its value across a helper call instead
#                           of taking the helper's result
#   1. builds that variant's `bpfdiff`;
#   2. runs `bpfdiff smt check --memory` on the row that lowers the fault
#      (ldxw, call_local, stxw, callx, ldindw, call_helper), which must exit 1 with a
#      counterexample written as a .data test under OUT/BUG/;
#   3. runs that .data test with `bpfdiff run FILE --engine interp` on the
#      normal build (it must meet its expectation) and `bpfdiff run FILE
#      --engine jit` on the planted build (it must not: a different result
#      or error, or a crash).
# Exit 0 when every fault was refuted and reproduced, 1 otherwise.
#
# Settings from the environment:
#   OUT   work directory (default planted-proofs; emptied first)
#   BUGS  the bugs (default: all above, space separated)
#   BUILD_JOBS  parallel compile jobs (default 2); BUILD=0 uses the build
#         directories as they are (build/release must hold bpfdiff)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-planted-proofs}
bugs=${BUGS:-mem-bounds-off-by-one call-depth-off-by-one mem-writable-unchecked budget-charge-short callx-target-unaligned packet-bounds-off-by-one helper-result-dropped}
build_jobs=${BUILD_JOBS:-2}

command -v jq >/dev/null || { echo "planted-proofs: needs jq (scripts/install-deps.sh)" >&2; exit 2; }

# The smt check rows that lower each bug, in the default option set's control column.
declare -A forms=([mem-bounds-off-by-one]='^ldxw$' [call-depth-off-by-one]='^call_local$'
  [mem-writable-unchecked]='^stxw$' [budget-charge-short]='^call_local$' [callx-target-unaligned]='^callx$'
  [packet-bounds-off-by-one]='^ldindw$' [helper-result-dropped]='^call_helper$')

if [[ ${BUILD:-1} != 0 ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$build_jobs" --target bpfdiff
fi
rm -rf "$out"
mkdir -p "$out"
status=0
for bug in $bugs; do
  [[ -n ${forms[$bug]:-} ]] || { echo "planted-proofs: unknown bug $bug" >&2; exit 2; }
  dir=build/planted-${bug%-off-by-one}
  if [[ ${BUILD:-1} != 0 ]]; then
    cmake --preset planted -B "$dir" -DBPFDIFF_PLANT_JIT_BUG="$bug" >/dev/null
    cmake --build "$dir" -j "$build_jobs" --target bpfdiff
  fi
  check=0
  "$dir/bin/bpfdiff" smt check --memory --forms "${forms[$bug]}" --checks '^jit r4,r3$' --out "$out/$bug" \
    >"$out/$bug.txt" 2>&1 || check=$?
  shopt -s nullglob
  tests=("$out/$bug"/*.data)
  shopt -u nullglob
  if ((check != 1 || ${#tests[@]} == 0)); then
    echo "$bug: NOT refuted (smt check exit $check, ${#tests[@]} .data tests; see $out/$bug.txt)"
    status=1
    continue
  fi
  for t in "${tests[@]}"; do
    # `bpfdiff run` exits 1 when the run stops with an error, expected or not.
    json=$(build/release/bin/bpfdiff run "$t" --engine interp --json 2>/dev/null) || true
    interp=$(jq -r '.expected.match' <<<"$json" 2>/dev/null || true)
    # The planted JIT may also crash: a call one frame too deep writes past
    # the frame array and below the stack (that is why the limit exists).
    rc=0
    json=$("$dir/bin/bpfdiff" run "$t" --engine jit --json 2>/dev/null) || rc=$?
    planted=$(jq -r '.expected.match' <<<"$json" 2>/dev/null || true)
    observed=$(jq -r '.expected.observed' <<<"$json" 2>/dev/null || true)
    [[ -n $planted ]] || { planted=false; observed="crashed, exit $rc"; }
    if [[ $interp == true && $planted == false ]]; then
      echo "$bug: refuted; $t passes on the interpreter, fails on the planted JIT ($observed)"
    else
      echo "$bug: $t does not reproduce (interpreter match: $interp, planted JIT match: $planted)"
      status=1
    fi
  done
done
exit "$status"
