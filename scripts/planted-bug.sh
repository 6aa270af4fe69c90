#!/usr/bin/env bash
# Proves, repeatably, that the harness catches a JIT bug introduced on
# purpose, and measures how fast. The bug: JMP32 `jsgt` lowered to the
# unsigned `ja` (as if its operands were zero- instead of sign-extended), put
# into the JIT itself by the CMake option BPFDIFF_PLANT_JIT_BUG=jsgt32-sign
# in build directories of its own (presets `planted`, `planted-fuzz`); no
# normal build, and no option of any command, can turn it on.
#
#   1. builds `bpfdiff` and the libFuzzer target(s) of the planted variant;
#   2. runs `bpfdiff gate` three times, each must exit 1 with a reproducer:
#      as is (the regression corpus may already hold this bug), without the
#      corpus (a bug never seen before), and with the generated batch alone;
#      prints the time to detection of each;
#   3. runs a short `bpfdiff fuzz` campaign of the libFuzzer build, which must
#      record the finding; prints the time to the first crash, measured from
#      the campaign's start to the crash file libFuzzer wrote;
#   4. minimizes that crash with `bpfdiff minimize` and prints the result.
# Exit 0 when every step caught the bug, 1 otherwise.
#
# Settings from the environment:
#   OUT      work directory (default planted-bug; emptied first)
#   MINUTES  campaign length (default 1)        JOBS  campaign jobs (default 1)
#   TARGETS  campaign targets (default interp_vs_jit_gen,interp_vs_jit_insn)
#   SEEDS    with-seeds (default) or none: start the campaign from empty
#            corpora, so the seeds cannot hand the fuzzer the bug
#   BUILD_JOBS  parallel compile jobs (default 2); BUILD=0 uses the build
#            directories as they are
set -euo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-planted-bug}
minutes=${MINUTES:-1}
jobs=${JOBS:-1}
targets=${TARGETS:-interp_vs_jit_gen,interp_vs_jit_insn}
seeds=${SEEDS:-with-seeds}
build_jobs=${BUILD_JOBS:-2}

command -v jq >/dev/null || { echo "planted-bug: needs jq (scripts/install-deps.sh)" >&2; exit 2; }

fuzz_targets=()
IFS=, read -ra names <<<"$targets"
for t in "${names[@]}"; do fuzz_targets+=("fuzz_$t"); done

if [[ "${BUILD:-1}" != 0 ]]; then
  echo "== building the planted variant (build/planted, build/planted-fuzz)"
  cmake --preset planted >/dev/null 2>&1
  cmake --build build/planted -j "$build_jobs" --target bpfdiff
  cmake --preset planted-fuzz >/dev/null 2>&1
  cmake --build build/planted-fuzz -j "$build_jobs" --target "${fuzz_targets[@]}"
fi
bin=build/planted/bin/bpfdiff
for t in "${fuzz_targets[@]}"; do
  [[ -x build/planted-fuzz/fuzz/$t ]] || { echo "planted-bug: no build/planted-fuzz/fuzz/$t" >&2; exit 2; }
done

rm -rf "$out"
mkdir -p "$out/empty-corpus"
failures=0
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# One gate run: must exit 1 with a written reproducer.
gate() {
  local name=$1
  shift
  local start end status=0
  start=$(now)
  "$bin" gate --json --out "$out/gate-$name" "$@" >"$out/gate-$name.json" 2>"$out/gate-$name.log" || status=$?
  end=$(now)
  if [[ $status -ne 1 ]] || ! jq -e '.result == "fail" and (.finding.input | length > 0)' \
       "$out/gate-$name.json" >/dev/null; then
    echo "gate ($name): MISSED the planted bug (exit $status)"
    failures=$((failures + 1))
    return
  fi
  jq -r --arg name "$name" --arg wall "$(elapsed "$start" "$end")" \
    '"gate (\($name)): caught in phase \(.finding.phase) after \(.total_programs) programs, " +
     "\(.seconds * 1000 | round / 1000) s in the gate (\($wall) s wall-clock)\n  signature: \(.finding.signature)\n" +
     "  reproducer: \(.finding.input)\n  replay: \(.finding.repro_command)"' "$out/gate-$name.json"
}

echo
echo "== bpfdiff gate on the planted JIT"
grep -q "planted on purpose: jsgt32-sign" <("$bin" gate --programs 0 --insn-per-form 0 \
  --corpus "$out/empty-corpus" --out "$out/gate-check" 2>&1) ||
  { echo "planted-bug: $bin does not announce the planted bug" >&2; exit 2; }
gate as-is
gate no-corpus --corpus "$out/empty-corpus"
gate generated-only --corpus "$out/empty-corpus" --insn-per-form 0

echo
echo "== bpfdiff fuzz: ${minutes} min, targets $targets, $jobs job(s), $seeds"
source_root=.
if [[ "$seeds" == none ]]; then
  # A source root with the dictionaries but no seeds.
  source_root="$out/seedless-source"
  mkdir -p "$source_root/corpus/fuzz" "$source_root/fuzz"
  ln -s "$PWD/fuzz/dict" "$source_root/fuzz/dict"
fi
campaign="$out/campaign"
start=$(now)
status=0
"$bin" fuzz --build build/planted-fuzz --source "$source_root" --targets "$targets" --minutes "$minutes" \
  --jobs "$jobs" --out "$campaign" --no-coverage --max-minimize-tests 2000 --progress 2 \
  >"$out/campaign.txt" 2>"$out/campaign.log" || status=$?
shopt -s nullglob
crashes=("$campaign"/crashes/*/*)
first=""
first_t=""
for c in "${crashes[@]}"; do
  t=$(stat -c '%.3Y' "$c")  # libFuzzer wrote it then; moving it kept the time
  if [[ -z "$first_t" ]] || awk -v a="$t" -v b="$first_t" 'BEGIN { exit !(a < b) }'; then
    first_t=$t
    first=$c
  fi
done
if [[ $status -ne 1 || -z "$first" ]] ||
   ! jq -e '[.findings[] | select(.title | test("jsgt32"))] | length > 0' "$campaign/report.json" >/dev/null; then
  echo "campaign: MISSED the planted bug (exit $status, ${#crashes[@]} crash files; see $out/campaign.log)"
  failures=$((failures + 1))
else
  echo "campaign: first crash $(elapsed "$start" "$first_t") s after the campaign started: $first"
  echo "  ${#crashes[@]} crash file(s) in $(jq '.totals.job_seconds // 0 | round' "$campaign/report.json") job-seconds; findings:"
  jq -r '.findings[] | "  \(.title)  (\(.count) crash(es), \(.original_slots) -> \(.minimized_slots) slots: \(.minimized))"' \
    "$campaign/report.json"

  echo
  echo "== bpfdiff minimize $first"
  if "$bin" minimize "$first" --out "$out/regressions" >"$out/minimize.txt" 2>&1; then
    cat "$out/minimize.txt"
    for d in "$out"/regressions/*.data; do
      echo "--- $d"
      cat "$d"
    done
  else
    echo "minimize: FAILED (see $out/minimize.txt)"
    failures=$((failures + 1))
  fi
fi

echo
if ((failures > 0)); then
  echo "planted-bug: $failures step(s) missed the planted bug"
  exit 1
fi
echo "planted-bug: the gate and the campaign caught the planted bug"
