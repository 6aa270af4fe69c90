#!/usr/bin/env bash
# The nightly fuzzing campaign: builds what `bpfdiff fuzz` needs (the CLI,
# the fuzz targets for the chosen engine, the coverage build), then runs
# every fuzz target on every core. Settings from the environment:
#   MINUTES (default 480)  JOBS (default: nproc)  ENGINE (libfuzzer | afl)
#   OUT (default fuzz-nightly; the same OUT resumes / continues a campaign)
# Extra arguments go to `bpfdiff fuzz` (e.g. --targets interp_vs_jit_gen).
# Results: OUT/report.html, OUT/report.json, OUT/findings/<signature>/,
# OUT/smt-check.json, OUT/smt-check-memory.json (and OUT/smt-counterexamples/,
# OUT/smt-counterexamples-memory/ if a proof fails), OUT/planted-proofs/ (scripts/planted-proofs.sh), OUT/kernel-matrix/matrix.md (a kernel campaign per
# kernel: the host's and Debian's 6.1 and 6.12 guests, JIT and interpreter),
# OUT/gate-coverage/summary.txt (what the gate reaches),
# OUT/jit-mutants/summary.txt (which lowering faults it catches).
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${MINUTES:-480}
jobs=${JOBS:-$(nproc)}
engine=${ENGINE:-libfuzzer}
out=${OUT:-fuzz-nightly}
preset=fuzz
[[ "$engine" == afl ]] && preset=afl

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target bpfdiff
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)" --target fuzz_binaries
cmake --preset coverage >/dev/null
cmake --build --preset coverage -j "$(nproc)"

# The full Z3 matrix first (every JIT register assignment; CI proves a sample):
# a counterexample is a finding like any other, written as a .data test.
mkdir -p "$out"
smt_status=0
build/release/bin/bpfdiff smt check --all-registers --jobs "$jobs" --json --out "$out/smt-counterexamples" \
  >"$out/smt-check.json" || smt_status=$?
echo "smt check --all-registers: exit $smt_status, results in $out/smt-check.json"
# The memory lowering (loads, stores, atomics, packet loads) against the interpreter, for
# every register assignment (a form that reads no src or no dst in its r0 column only),
# every option set and offset class; and, in the first column of each option set, local
# calls, exits and block charges (depth limits 1, 2 and 8), the prologue and epilogue,
# the helper-call glue (a plain helper and bpf_tail_call, any helper behaviour) and callx.
# Nice'd: it takes hours of CPU (README, "Proof times").
nice -n 10 build/release/bin/bpfdiff smt check --memory --all-registers --checks '^jit' \
  --forms '^(ldx|st|atomic|ldabs|ldind|call_local$|exit$|call_helper$|callx$)' \
  --jobs "$jobs" --json --out "$out/smt-counterexamples-memory" \
  >"$out/smt-check-memory.json" || smt_status=$?
echo "smt check --memory: exit $smt_status, results in $out/smt-check-memory.json"
# Faults planted in the JIT's memory and call lowering (their own build
# directories): each refuted, its counterexample's .data test failing on the
# planted JIT and passing on the interpreter.
OUT="$out/planted-proofs" bash scripts/planted-proofs.sh || smt_status=$?

# What the gate reaches and what it catches (issue 16): the line and branch
# coverage of vm/jit/ and vm/interp/ under the full gate (every unreached line
# with its reason), then a sample of deliberate faults in the JIT's lowering,
# each rebuilt in a scratch copy and run through the gate. MUTANTS sets the
# sample (default 40, 0 skips it); both results stay under $out.
gate_status=0
bash scripts/gate-coverage.sh --out "$out/gate-coverage" || gate_status=$?
if [[ ${MUTANTS:-40} != 0 ]]; then
  bash scripts/jit-mutants.sh --count "${MUTANTS:-40}" --seed "${MUTANT_SEED:-1}" --out "$out/jit-mutants" ||
    gate_status=$?
fi

fuzz_status=0
build/release/bin/bpfdiff fuzz --minutes "$minutes" --jobs "$jobs" --engine "$engine" --out "$out" "$@" ||
  fuzz_status=$?

# Guest kernels built from Debian's source (the test command never builds
# them): the WARN-patched guest and the KASAN guest with its out-of-bounds
# read for the kernel-log e2e tests, then the
# planted-kernel-bug benchmark, then the KCOV guest and the coverage-guidance
# benchmark. KERNEL_BENCH=0 skips this; BENCH_MINUTES sets the budget per
# planted bug (default 30), COVERAGE_MINUTES per coverage arm (default 60: the
# arms run at the same time, and bench.txt gives the edges after 10 minutes
# and at the end, the two figures issue #14 asks for). Both arms give up on a
# program after 5 s (--request-limit): a verifier walked to its complexity
# limit takes 20-30 s under TCG with KCOV, and such walks took 77% of an
# uncapped guided hour.
kernel_status=0
if [[ ${KERNEL_BENCH:-1} != 0 ]]; then
  cmake --build --preset release -j "$(nproc)" --target source_kernel_e2e_test
  bash scripts/build-guest.sh --source 6.12 --no-current --patch tests/guest/kernel-patches/warn-on-magic-mov.patch ||
    kernel_status=$?
  bash scripts/build-guest.sh --source 6.12 --kasan --no-current \
    --patch tests/guest/kernel-patches/kasan-on-magic-mov.patch || kernel_status=$?
  ctest --preset release -R '^source_kernel_e2e$' --output-on-failure || kernel_status=$?
  bash scripts/kernel-bug-bench.sh --minutes "${BENCH_MINUTES:-30}" --out "$out/kernel-bug-bench" \
    corpus/kernel-bugs/*.patch || kernel_status=$?
  echo "kernel-bug-bench: results in $out/kernel-bug-bench/bench.txt"
  # The KCOV guest: its e2e test, then guidance against none on it.
  cmake --build --preset release -j "$(nproc)" --target kcov_e2e_test
  bash scripts/build-guest.sh --source 6.12 --kcov --no-current || kernel_status=$?
  ctest --preset release -R '^kcov_e2e$' --output-on-failure || kernel_status=$?
  bash scripts/kernel-coverage-bench.sh --minutes "${COVERAGE_MINUTES:-60}" --parallel --request-limit 5 \
    --out "$out/kernel-coverage-bench" || kernel_status=$?
fi
# The kernel matrix: a kernel campaign on the host kernel and on each Debian
# guest kernel this machine can build, one section per kernel in
# OUT/kernel-matrix/matrix.md. KERNEL_MATRIX=0 skips it; MATRIX_MINUTES sets
# the minutes per kernel (default 30).
matrix_status=0
if [[ ${KERNEL_MATRIX:-1} != 0 ]]; then
  cmake --build --preset release -j "$(nproc)" --target bpfdiff-agent
  bash scripts/kernel-matrix.sh --minutes "${MATRIX_MINUTES:-30}" --out "$out/kernel-matrix" || matrix_status=$?
fi
if ((smt_status != 0)); then exit "$smt_status"; fi
if ((matrix_status != 0)); then exit "$matrix_status"; fi
if ((kernel_status != 0)); then exit "$kernel_status"; fi
if ((gate_status != 0)); then exit "$gate_status"; fi
exit "$fuzz_status"
