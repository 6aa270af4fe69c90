#!/usr/bin/env bash
# A mutation check of the JIT's lowering: small deliberate faults are put
# into vm/jit/lower_*.cpp one at a time, in a scratch copy of the tree, the
# scratch build rebuilds bpfdiff incrementally (only the mutated file
# recompiles; ccache serves the rest), and `bpfdiff gate --quick` runs
# against it. A mutant the gate fails on is killed; one it passes survived --
# a gap in the gate, or an equivalent mutant (read its diff to tell).
#
#   scripts/jit-mutants.sh [--count N] [--seed S] [--full] [--fresh] [--list]
#                          [--retry-survivors] [--out DIR] [--timeout SEC]
#
# Mutation operators, each applied to the first match on one line:
#   W32->W64, W64->W32   operand width
#   cond                 a condition code for its neighbour (e<->ne, a<->ae,
#                        b<->be, g<->ge, l<->le)
#   aluop                an ALU operation for another (Add<->Sub, And<->Or,
#                        Xor->Or; ShiftOp Shl<->Shr, Sar->Shr)
#   mask                 63u<->31u (shift masks)
#   lt->le, eq->ne       comparisons in the lowering's own C++
#   plus1->plus2         + 1 -> + 2
#   bool                 true<->false
#   scratch              kScratch1<->kScratch2 (a register mix-up)
#   delete               an emitted instruction (a line `a_.xxx(...);`) removed
# Every candidate site is enumerated in a fixed order; --count (default 40)
# are drawn with --seed, round robin over the operators (each shuffled), so a
# small sample still has every kind. --list prints the candidates and exits.
#
# Bounded and resumable on a shared machine: the scratch copy and its build
# directory (DIR/src, release preset) persist between runs and only files
# that differ from the checkout are copied in; results go to
# DIR/results.tsv as each mutant ends, and a rerun with the same DIR skips
# the mutants already there (--fresh starts the table over;
# --retry-survivors runs the SURVIVED ones again, after a gate change). Each gate run
# is killed after --timeout seconds (default: 5 x the unmutated gate's time,
# at least 120): a mutant that makes the JIT loop is killed by that. The
# builds run under `nice -n 10` with JOBS (default 2) jobs.
#
# Verdicts: killed (the gate reported a divergence; the phase that found it
# is recorded), crashed (the gate died of a signal), timeout, SURVIVED,
# no-build (the mutant does not compile: not counted), unchanged (the
# operator did not apply: not counted). Kill rate = (killed + crashed +
# timeout) / (those + SURVIVED).
# Results: DIR/results.tsv (mutant, site, operator, verdict, phase, seconds),
# DIR/mutant-ID.diff for each, DIR/summary.txt. Default DIR build/mutants.
# Exit status: 0 no drawn mutant survived, 1 some survived, 2 bad usage or
# the unmutated copy fails to build or to pass the gate.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
count=40
seed=1
list=0
fresh=0
retry=0
full=0
timeout_s=
out=$root/build/mutants
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count=$2; shift ;;
    --seed) seed=$2; shift ;;
    --list) list=1 ;;
    --fresh) fresh=1 ;;
    --retry-survivors) retry=1 ;;
    --full) full=1 ;;
    --timeout) timeout_s=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "jit-mutants: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$out" in /*) ;; *) out=$PWD/$out ;; esac

# Candidate sites: "file<TAB>line<TAB>operator" for every line of a lowering
# file on which an operator applies (comment lines skipped).
candidates() {
  for f in "$root"/vm/jit/lower_*.cpp; do
    awk -v file="vm/jit/${f##*/}" '
      /^[ \t]*\/\// { next }
      {
        if ($0 ~ /[^A-Za-z_]W32[^A-Za-z_0-9]/) print file "\t" NR "\tW32->W64"
        if ($0 ~ /[^A-Za-z_]W64[^A-Za-z_0-9]/) print file "\t" NR "\tW64->W32"
        if ($0 ~ /Cond::(e|ne|a|ae|b|be|g|ge|l|le)[^a-z]/) print file "\t" NR "\tcond"
        if ($0 ~ /(AluOp::(Add|Sub|And|Or|Xor)|ShiftOp::(Shl|Shr|Sar))[^A-Za-z]/ && $0 !~ /^[ \t]*(case|return)/)
          print file "\t" NR "\taluop"
        if ($0 ~ /63u|31u/) print file "\t" NR "\tmask"
        if ($0 ~ / < /) print file "\t" NR "\tlt->le"
        if ($0 ~ / == /) print file "\t" NR "\teq->ne"
        if ($0 ~ / \+ 1[^0-9]/) print file "\t" NR "\tplus1->plus2"
        if ($0 ~ /[^A-Za-z_](true|false)[^A-Za-z_]/) print file "\t" NR "\tbool"
        if ($0 ~ /kScratch[12][^0-9]/) print file "\t" NR "\tscratch"
        if ($0 ~ /^[ \t]*a_\.[a-z_0-9]+\(.*\);[ \t]*(\/\/.*)?$/) print file "\t" NR "\tdelete"
      }' "$f"
  done
}

# Applies operator $3 to the first match on line $2 of file $1 (in place).
mutate() {
  local file=$1 line=$2 op=$3 expr
  case "$op" in
    W32-\>W64) expr='s/\<W32\>/W64/' ;;
    W64-\>W32) expr='s/\<W64\>/W32/' ;;
    cond) expr='s/Cond::e\>/Cond::ne/;t;s/Cond::ne\>/Cond::e/;t;s/Cond::ae\>/Cond::a/;t;s/Cond::a\>/Cond::ae/;t;s/Cond::be\>/Cond::b/;t;s/Cond::b\>/Cond::be/;t;s/Cond::ge\>/Cond::g/;t;s/Cond::g\>/Cond::ge/;t;s/Cond::le\>/Cond::l/;t;s/Cond::l\>/Cond::le/' ;;
    aluop) expr='s/AluOp::Add\>/AluOp::Sub/;t;s/AluOp::Sub\>/AluOp::Add/;t;s/AluOp::And\>/AluOp::Or/;t;s/AluOp::Or\>/AluOp::And/;t;s/AluOp::Xor\>/AluOp::Or/;t;s/ShiftOp::Shl\>/ShiftOp::Shr/;t;s/ShiftOp::Shr\>/ShiftOp::Shl/;t;s/ShiftOp::Sar\>/ShiftOp::Shr/' ;;
    mask) expr='s/63u/31u/;t;s/31u/63u/' ;;
    lt-\>le) expr='s/ < / <= /' ;;
    eq-\>ne) expr='s/ == / != /' ;;
    plus1-\>plus2) expr='s/ + 1\>/ + 2/' ;;
    bool) expr='s/\<true\>/false/;t;s/\<false\>/true/' ;;
    scratch) expr='s/kScratch1\>/kScratch@/;t;s/kScratch2\>/kScratch1/;t' ;;
    delete) expr='s|^\([ \t]*\)\(a_\..*\)$|\1static_cast<void>(0);  // mutant: deleted \2|' ;;
  esac
  sed -i "${line}{${expr}}" "$file"
  # kScratch@ marks the first kScratch1 swapped (so the second rule skips it).
  [ "$op" = scratch ] && sed -i "${line}s/kScratch@/kScratch2/" "$file"
  return 0
}

mapfile -t all < <(candidates)
if [ "$list" = 1 ]; then
  printf '%s\n' "${all[@]}"
  printf '%s\n' "${all[@]}" | cut -f3 | sort | uniq -c >&2
  echo "${#all[@]} candidate mutants" >&2
  exit 0
fi
[ "${#all[@]}" -gt 0 ] || { echo "jit-mutants: no candidate sites" >&2; exit 2; }

# The draw: each operator's sites in a seeded shuffle, then round robin over
# the operators (in a fixed order) until --count are taken.
mapfile -t drawn < <(printf '%s\n' "${all[@]}" |
  awk -F'\t' -v seed="$seed" 'BEGIN { srand(seed) } { print $3 "\t" rand() "\t" $0 }' |
  sort -t$'\t' -k1,1 -k2,2n |
  awk -F'\t' '{ rank[$1]++; print rank[$1] "\t" $1 "\t" $3 "\t" $4 "\t" $5 }' |
  sort -t$'\t' -k1,1n -k2,2 | cut -f3- | head -n "$count")

mkdir -p "$out"
scratch=$out/src
echo "jit-mutants: scratch copy in $scratch (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
# Copy in only what differs from the checkout (tracked and untracked files,
# not ignored ones), with a fresh mtime so ninja rebuilds exactly those; the
# contents are compared by checksum in one pass.
mkdir -p "$scratch"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 md5sum) | sort >"$out/root.md5"
(cd "$scratch" && cut -c35- "$out/root.md5" | tr '\n' '\0' | xargs -0 md5sum 2>/dev/null || true) |
  sort >"$out/scratch.md5"
mapfile -t changed < <(comm -23 "$out/root.md5" "$out/scratch.md5" | cut -c35-)
synced=${#changed[@]}
if [ "$synced" -gt 0 ]; then
  (cd "$root" && printf '%s\0' "${changed[@]}" | xargs -0 tar -cf - --) | tar -xf - -C "$scratch" --touch --ignore-zeros
fi
echo "jit-mutants: $synced files copied into the scratch copy"

# ccache keys on paths relative to this base: the scratch build reuses the
# objects of every other checkout under it that compiled the same sources.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-/work}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
build() { nice -n 10 cmake --build "$scratch/build/release" -j "${JOBS:-2}" --target bpfdiff >"$out/build.log" 2>&1; }
(cd "$scratch" && cmake --preset release >/dev/null)
echo "jit-mutants: building the unmutated scratch copy"
build || { echo "jit-mutants: the unmutated copy does not build (see $out/build.log)" >&2; exit 2; }
gate_args=(gate --out "$out/findings")
[ "$full" = 1 ] || gate_args+=(--quick)
gate() {
  rm -rf "$out/findings"
  (cd "$scratch" && timeout -s KILL "$1" build/release/bin/bpfdiff "${gate_args[@]}" >"$out/gate.txt" 2>&1)
}
start=$(date +%s)
gate 1800 || { echo "jit-mutants: the gate fails on the unmutated copy (see $out/gate.txt)" >&2; exit 2; }
baseline=$(( $(date +%s) - start ))
if [ -z "$timeout_s" ]; then
  timeout_s=$((5 * baseline))
  [ "$timeout_s" -ge 120 ] || timeout_s=120
fi
echo "jit-mutants: unmutated gate passes in $baseline s; each mutant's gate is killed after $timeout_s s"

results=$out/results.tsv
if [ "$fresh" = 1 ] || ! [ -s "$results" ]; then
  printf 'mutant\tsite\toperator\tverdict\tphase\tseconds\n' >"$results"
elif [ "$retry" = 1 ]; then
  grep -v $'\tSURVIVED\t' "$results" >"$results.tmp" || true
  mv "$results.tmp" "$results"
fi
n=0
for entry in "${drawn[@]}"; do
  n=$((n + 1))
  IFS=$'\t' read -r file line op <<<"$entry"
  id="${file##*/}:$line:$op"
  if awk -F'\t' -v id="$id" '$1 == id { found = 1 } END { exit !found }' "$results"; then continue; fi
  cp "$scratch/$file" "$out/original.cpp"
  # Put the original back whatever happens (a fresh mtime: ninja rebuilds it).
  trap 'cp "$out/original.cpp" "$scratch/$file"' EXIT
  mutate "$scratch/$file" "$line" "$op"
  diffname=$out/mutant-${id//[:>\/]/_}.diff
  diff -u "$out/original.cpp" "$scratch/$file" --label "a/$file" --label "b/$file" >"$diffname" || true
  began=$(date +%s)
  phase=-
  if ! [ -s "$diffname" ]; then
    verdict=unchanged
  elif ! build; then
    verdict=no-build
  else
    status=0
    gate "$timeout_s" || status=$?
    case "$status" in
      0) verdict=SURVIVED ;;
      1) verdict=killed
         phase=$(sed -n 's/.* in phase \([a-z-]*\) .*/\1/p' "$out/gate.txt" | head -n 1) ;;
      137) verdict=timeout ;;
      2) verdict=gate-error ;;
      *) verdict=crashed ;;
    esac
  fi
  cp "$out/original.cpp" "$scratch/$file"
  trap - EXIT
  printf '%s\t%s:%s\t%s\t%s\t%s\t%s\n' "$id" "$file" "$line" "$op" "$verdict" "${phase:--}" \
    "$(( $(date +%s) - began ))" | tee -a "$results"
done

# The summary over every mutant in the table (this run's and earlier ones').
awk -F'\t' 'NR > 1 {
    v[$4]++
    if ($4 == "killed" || $4 == "crashed" || $4 == "timeout") { dead++; byop[$3 " killed"]++ }
    if ($4 == "SURVIVED") { alive++; byop[$3 " survived"]++; surv = surv "  " $2 " " $3 "\n" }
    if ($4 == "killed") phase[$5]++
  }
  END {
    total = dead + alive
    printf "jit-mutants: %d of %d mutants killed (%.1f%%)", dead, total, total ? 100 * dead / total : 0
    printf "; verdicts:"; for (k in v) printf " %s %d", k, v[k]; printf "\n"
    printf "killed by phase:"; for (k in phase) printf " %s %d", k, phase[k]; printf "\n"
    printf "per operator:"; for (k in byop) printf " [%s %d]", k, byop[k]; printf "\n"
    if (alive) printf "survivors:\n%s", surv
  }' "$results" | tee "$out/summary.txt"
! grep -q $'\tSURVIVED\t' "$results"
