#!/usr/bin/env bash
# A mutation check of the JIT's lowering: small deliberate faults are put
# into vm/jit/lower_*.cpp one at a time, in a scratch copy of the tree, the
# scratch build rebuilds bpfdiff incrementally (only the mutated file
# recompiles), and `bpfdiff gate --quick` runs against it. A mutant the gate
# reports a divergence for is caught; one it passes survived -- a gap in the
# gate (or an equivalent mutant: read the diff to tell).
#
#   scripts/jit-mutants.sh [--count N] [--seed S] [--list] [--out DIR]
#
# Mutation operators, applied to one occurrence on one line: W32<->W64,
# a condition code swapped for its neighbour (e<->ne, a<->ae, b<->be,
# g<->ge, l<->le), 63u<->31u (shift masks), < <-> <=, == <-> !=, + 1 -> + 2,
# true<->false. Every candidate site is enumerated in a fixed order; --count
# (default 8) of them are drawn with --seed, because each costs a compile,
# a link and a gate run on a shared machine. --list prints the candidates
# and exits. Results: DIR/results.tsv (mutant, file:line, operator, verdict,
# seconds) and DIR/mutant-N.diff; default DIR build/mutants.
# Exit status: 0 every drawn mutant was caught (or did not compile), 1 some
# survived, 2 bad usage.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
count=8
seed=1
list=0
out=$root/build/mutants
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count=$2; shift ;;
    --seed) seed=$2; shift ;;
    --list) list=1 ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "jit-mutants: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# Candidate sites: "file<TAB>line<TAB>operator" for every line of a lowering
# file on which an operator applies (comments skipped).
candidates() {
  for f in "$root"/vm/jit/lower_*.cpp; do
    awk -v file="vm/jit/${f##*/}" '
      /^[ \t]*\/\// { next }
      {
        if ($0 ~ /[^A-Za-z_]W32[^A-Za-z_0-9]/) print file "\t" NR "\tW32->W64"
        if ($0 ~ /[^A-Za-z_]W64[^A-Za-z_0-9]/) print file "\t" NR "\tW64->W32"
        if ($0 ~ /Cond::(e|ne|a|ae|b|be|g|ge|l|le)[^a-z]/) print file "\t" NR "\tcond"
        if ($0 ~ /63u|31u/) print file "\t" NR "\tmask"
        if ($0 ~ / < /) print file "\t" NR "\tlt->le"
        if ($0 ~ / == /) print file "\t" NR "\teq->ne"
        if ($0 ~ / \+ 1[^0-9]/) print file "\t" NR "\tplus1->plus2"
        if ($0 ~ /[^A-Za-z_](true|false)[^A-Za-z_]/) print file "\t" NR "\tbool"
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
    mask) expr='s/63u/31u/;t;s/31u/63u/' ;;
    lt-\>le) expr='s/ < / <= /' ;;
    eq-\>ne) expr='s/ == / != /' ;;
    plus1-\>plus2) expr='s/ + 1\>/ + 2/' ;;
    bool) expr='s/\<true\>/false/;t;s/\<false\>/true/' ;;
  esac
  sed -i "${line}{${expr}}" "$file"
}

mapfile -t all < <(candidates)
if [ "$list" = 1 ]; then
  printf '%s\n' "${all[@]}"
  echo "${#all[@]} candidate mutants" >&2
  exit 0
fi
[ "${#all[@]}" -gt 0 ] || { echo "jit-mutants: no candidate sites" >&2; exit 2; }

# The draw: a seeded shuffle of the candidates, the first --count of them.
mapfile -t drawn < <(printf '%s\n' "${all[@]}" | awk -v seed="$seed" 'BEGIN { srand(seed) } { print rand() "\t" $0 }' |
  sort -n | cut -f2- | head -n "$count")

mkdir -p "$out"
scratch=$out/src
echo "jit-mutants: scratch copy in $scratch (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
rm -rf "$scratch"
mkdir -p "$scratch"
git -C "$root" ls-files -z | (cd "$root" && xargs -0 tar -cf - --) | tar -xf - -C "$scratch"
# ccache keys on paths relative to this base, so the scratch build reuses the
# objects of every other checkout that compiled the same sources.
export CCACHE_BASEDIR=/
build() { cmake --build "$scratch/build/release" -j "${JOBS:-2}" --target bpfdiff >"$out/build.log" 2>&1; }
(cd "$scratch" && cmake --preset release >/dev/null)
echo "jit-mutants: building the unmutated scratch copy"
build || { echo "jit-mutants: the unmutated copy does not build (see $out/build.log)" >&2; exit 2; }
gate() { (cd "$scratch" && build/release/bin/bpfdiff gate --quick --out "$out/findings" >"$out/gate.txt" 2>&1); }
gate || { echo "jit-mutants: the gate fails on the unmutated copy (see $out/gate.txt)" >&2; exit 2; }

printf 'mutant\tsite\toperator\tverdict\tseconds\n' >"$out/results.tsv"
survived=0
n=0
for entry in "${drawn[@]}"; do
  n=$((n + 1))
  IFS=$'\t' read -r file line op <<<"$entry"
  cp "$scratch/$file" "$out/original.cpp"
  mutate "$scratch/$file" "$line" "$op"
  diff -u "$out/original.cpp" "$scratch/$file" --label "a/$file" --label "b/$file" >"$out/mutant-$n.diff" || true
  start=$(date +%s)
  if ! [ -s "$out/mutant-$n.diff" ]; then
    verdict=unchanged
  elif ! build; then
    verdict=no-build
  elif gate; then
    verdict=SURVIVED
    survived=$((survived + 1))
  else
    verdict=caught
  fi
  cp "$out/original.cpp" "$scratch/$file"
  seconds=$(( $(date +%s) - start ))
  printf '%s\t%s:%s\t%s\t%s\t%s\n' "$n" "$file" "$line" "$op" "$verdict" "$seconds" | tee -a "$out/results.tsv"
done
echo "jit-mutants: $survived of $n drawn mutants survived the gate --quick (of ${#all[@]} candidates); $out/results.tsv"
[ "$survived" = 0 ]
