#!/usr/bin/env bash
# README command (a): install everything, build, and run the main job.
# The main job: the example programs and the conformance suite on the
# interpreter (each result next to the expected one), then a differential
# run of every corpus program on all engines (interpreter and each JIT
# option set, full-state comparison), then the deterministic regression
# gate in its quick form, the Z3 proofs (`bpfdiff smt check`), a kernel
# campaign of 1,000 programs against the host kernel and a QEMU guest where
# this machine has them, then a one-minute fuzzing campaign over every fuzz
# target (libFuzzer build, coverage build, `bpfdiff fuzz --minutes 1`).
# Idempotent: the builds are incremental and the campaign directory is
# reused (each run is a new session on the saved corpora).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to the checkout, so a clean clone elsewhere reuses the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
# The -g builds (ASan) would otherwise hash the build directory too and never hit from another clone;
# the cost is debug info naming the directory of the build that filled the cache.
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target bpfdiff bpfdiff-plugin bpfdiff-agent

bin=build/release/bin
pass=0
fail=0

printf '\n%-40s %-20s %-20s %s\n' "program" "r0" "expected" "verdict"
for f in corpus/examples/*.asm; do
  expect=$(sed -n 's/^# expect: *//p' "$f" | head -1)
  mem=$(sed -n 's/^# mem: *//p' "$f" | head -1)
  if [[ -n "$mem" ]]; then
    got=$("$bin/bpfdiff" run "$f" --mem "$mem" 2>&1) || true
  else
    got=$("$bin/bpfdiff" run "$f" 2>&1) || true
  fi
  if [[ -n "$expect" && "$((got))" == "$((expect))" ]] 2>/dev/null; then
    verdict=ok; pass=$((pass + 1))
  else
    verdict=MISMATCH; fail=$((fail + 1))
  fi
  printf '%-40s %-20s %-20s %s\n' "$(basename "$f")" "$got" "$expect" "$verdict"
done

printf '\n%-40s %-41s %s\n' "conformance test" "observed" "verdict"
# A .data file states its expected r0 or error; `bpfdiff run` prints
# "expected ..., observed ...: match" when they agree (an expected error
# makes the run itself exit non-zero, so the verdict line is what counts).
for f in corpus/conformance/*.data; do
  out=$("$bin/bpfdiff" run "$f" 2>/dev/null) || true
  verdict_line=$(grep -E ': (match|MISMATCH|mismatch)' <<<"$out" | tail -1)
  if [[ "$verdict_line" == *": match" ]]; then
    verdict=ok; pass=$((pass + 1))
  else
    verdict=MISMATCH; fail=$((fail + 1))
  fi
  observed=$(sed -n 's/.*observed \(.*\): [a-zA-Z]*$/\1/p' <<<"$verdict_line")
  printf '%-40s %-41s %s\n' "$(basename "$f")" "$(cut -c1-41 <<<"${observed:-?}")" "$verdict"
done

printf '\nexpected results: %d passed, %d failed\n' "$pass" "$fail"

printf '\n==== differential: every corpus program on every engine\n'
diff_status=0
for dir in corpus/examples corpus/conformance; do
  printf '%-20s ' "$dir:"
  "$bin/bpfdiff" diff "$dir" | tail -1 || diff_status=$?
done

printf '\n==== regression gate (quick): corpus seeds, every form on boundary values, 2,000 generated programs\n'
gate_status=0
"$bin/bpfdiff" gate --quick || gate_status=$?

printf '\n==== Z3: every ALU, byte-order and jump form proved for the interpreter and the JIT\n'
smt_status=0
"$bin/bpfdiff" smt check | tail -1 || smt_status=$?

# The kernels this machine offers: the host's (bpf() allowed) and a QEMU guest
# (image built from Debian's kernel package, cached). Each missing one is
# said and skipped, never a failure of the job.
printf '\n==== the kernel as an oracle: 1,000 kernel-friendly programs on our engines and the kernels\n'
kernel_engines=interp,jit
if "$bin/bpfdiff" run corpus/examples/factorial.asm --engine kernel-host >/dev/null 2>&1; then
  kernel_engines+=,kernel-host
else
  echo "kernel-host: bpf() is not permitted here; skipped"
fi
if bash scripts/build-guest.sh --quiet --agent "$bin/bpfdiff-agent" >/dev/null 2>&1; then
  kernel_engines+=,kernel-qemu,kernel-qemu-interp
else
  echo "kernel-qemu: no guest image (scripts/build-guest.sh failed); skipped"
fi
kernel_status=0
if [[ "$kernel_engines" != interp,jit ]]; then
  # One guest per core: the guests' vCPUs are single host threads.
  "$bin/bpfdiff" fuzz --engines "$kernel_engines" --max-programs 1000 --progress 10 --guests "$(nproc)" \
    --out build/main-job-kernel 2>&1 | grep -v '^kernel campaign [0-9]' || kernel_status=$?
fi

printf '\n==== fuzzing campaign: one minute over every fuzz target (bpfdiff fuzz)\n'
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target fuzz_binaries
cmake --preset coverage >/dev/null
cmake --build --preset coverage -j "$(nproc)"
fuzz_status=0
"$bin/bpfdiff" fuzz --minutes 1 --jobs "$(nproc)" --out build/main-job-campaign || fuzz_status=$?

[[ $fail -eq 0 && $diff_status -eq 0 && $gate_status -eq 0 && $smt_status -eq 0 && $kernel_status -eq 0 &&
  $fuzz_status -eq 0 ]]
