#!/usr/bin/env bash
# Planted-kernel-bug benchmark: for each PATCH (a planted verifier or JIT
# slip, e.g. corpus/kernel-bugs/*.patch, or any patch of your own), build a
# guest kernel from Debian's source with it (scripts/build-guest.sh
# --source), run the kernel campaign on that guest until it flags the bug or
# N minutes pass, and print one line per patch.
#
# A finding counts only if the same program agrees on the unpatched kernel
# (built from the same source and configuration): `bpfdiff repro` of the
# finding's input on the stock guest must exit 0. A finding that reproduces
# on the stock kernel too is reported as such and the campaign goes on.
#
# Output lines (also in OUT/bench.txt):
#   PATCH: flagged after S s, P programs: SIGNATURE (kind; stock kernel agrees)
#   PATCH: not flagged in N min (P programs)
# Exit status: 0 if every patch was flagged, 1 if some were not, 2 on usage
# or build errors.
set -euo pipefail
invoked_from=$PWD
cd "$(dirname "$0")/.."

minutes=30
series=6.12
guests=1
out=kernel-bug-bench
seed=""
fuzz_args=(--isa-version 4 --max-instructions 128)
patches=()

usage() {
  cat <<EOF
Usage: scripts/kernel-bug-bench.sh [--minutes N] [--source 6.1|6.12] [--guests N] [--seed S]
                                   [--out DIR] [--fuzz-arg ARG ...] PATCH...
  --minutes N    campaign budget per patch (default $minutes)
  --source S     Debian linux-source series the patches apply to (default $series)
  --guests N     guests per campaign (default $guests)
  --seed S       campaign seed (default: the campaign's own)
  --out DIR      results: DIR/NAME/ per patch (the campaign's --out), DIR/bench.txt (default $out)
  --fuzz-arg A   extra argument for \`bpfdiff fuzz\` (repeatable; replaces the default
                 "${fuzz_args[*]}" when given)
Environment: BPFDIFF (the bpfdiff binary, default build/release/bin/bpfdiff).
EOF
}

custom_fuzz_args=()
while (($#)); do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --source) series="$2"; shift 2 ;;
    --guests) guests="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --fuzz-arg) custom_fuzz_args+=("$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "kernel-bug-bench: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *)
      p="$1"
      [[ $p == /* ]] || p="$invoked_from/$p"
      [[ -f $p ]] || { echo "kernel-bug-bench: '$1' is not a file" >&2; exit 2; }
      patches+=("$p"); shift ;;
  esac
done
((${#patches[@]})) || { usage >&2; exit 2; }
[[ $minutes =~ ^[0-9]+$ && $minutes -gt 0 ]] || { echo "kernel-bug-bench: --minutes takes a positive integer" >&2; exit 2; }
((${#custom_fuzz_args[@]})) && fuzz_args=("${custom_fuzz_args[@]}")
[[ -n $seed ]] && fuzz_args+=(--seed "$seed")
[[ $out == /* ]] || out="$invoked_from/$out"
mkdir -p "$out"
bpfdiff=${BPFDIFF:-build/release/bin/bpfdiff}
[[ -x $bpfdiff ]] || { echo "kernel-bug-bench: $bpfdiff is missing (build the release preset)" >&2; exit 2; }

# The image directory a build-guest.sh run printed last ("build-guest: DIR (release)").
build_image() {  # build-guest.sh arguments
  local line
  line=$(bash scripts/build-guest.sh --source "$series" --no-current --quiet "$@" | tail -n1) || return 1
  line=${line#build-guest: }
  echo "${line% (*}"
}

echo "kernel-bug-bench: building the stock $series guest" >&2
stock=$(build_image) || { echo "kernel-bug-bench: the stock kernel does not build" >&2; exit 2; }

all_flagged=1
: >"$out/bench.txt"
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  echo "kernel-bug-bench: building the guest with $name" >&2
  if ! image=$(build_image --patch "$patch"); then
    echo "$name: build failed" | tee -a "$out/bench.txt"
    all_flagged=0
    continue
  fi
  run="$out/$name"
  rm -rf "$run"
  mkdir -p "$run"
  began=$SECONDS
  BPFDIFF_GUEST_DIR="$image" BPFDIFF_GUEST_DAEMON=0 nice -n 10 "$bpfdiff" fuzz --engines interp,jit,kernel-qemu \
    --guests "$guests" --minutes "$minutes" --out "$run/campaign" "${fuzz_args[@]}" >"$run/campaign.log" 2>&1 &
  campaign=$!
  result=""
  declare -A checked=()
  while :; do
    running=1
    kill -0 "$campaign" 2>/dev/null || running=0
    for dir in "$run/campaign/findings"/*/; do
      [[ -f $dir/finding.json && -f $dir/case.data ]] || continue
      sig=$(basename "$dir")
      [[ -n ${checked[$sig]:-} ]] && continue
      checked[$sig]=1
      seconds=$((SECONDS - began))
      budget=$(jq -r '.budget' "$dir/finding.json")
      # The same program on the unpatched kernel: engines must agree there.
      if BPFDIFF_GUEST_DIR="$stock" BPFDIFF_GUEST_DAEMON=0 "$bpfdiff" repro "$dir/case.data" \
        --budget "$budget" --engines interp,jit,kernel-qemu >"$dir/stock-repro.txt" 2>&1; then
        programs=$(($(jq -r '.iteration' "$dir/finding.json") + 1))
        result="$name: flagged after $seconds s, $programs programs: $sig ($(jq -r '.kind' "$dir/finding.json"); stock kernel agrees)"
        break
      else
        echo "kernel-bug-bench: $name: $sig also differs on the stock kernel (not counted; $dir/stock-repro.txt)" >&2
      fi
    done
    [[ -n $result ]] && break
    ((running)) || break
    sleep 2
  done
  if kill -0 "$campaign" 2>/dev/null; then
    kill -INT "$campaign" 2>/dev/null || true
  fi
  wait "$campaign" 2>/dev/null || true
  if [[ -z $result ]]; then
    programs=$(jq -r '.programs // 0' "$run/campaign/report.json" 2>/dev/null || echo "?")
    result="$name: not flagged in $minutes min ($programs programs)"
    all_flagged=0
  fi
  echo "$result" | tee -a "$out/bench.txt"
  unset checked
done
((all_flagged)) && exit 0
exit 1
