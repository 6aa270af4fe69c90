#!/usr/bin/env bash
# Coverage guidance on a KCOV guest kernel, measured: three kernel campaigns
# of the same seed and the same minutes on the same image, one after the
# other (one guest each):
#   guided     programs that reach new verifier/JIT edges are the corpus
#   unguided   the edges are counted, the corpus is the accepted programs
#   no-trace   no coverage asked for (programs/s without KCOV tracing)
# Prints, per arm: programs, programs/s, verifier/JIT edges at the end and at
# the program count every arm reached (from report.json's timeline), corpus.
# Needs an image of `scripts/build-guest.sh --source 6.12 --kcov` (found by
# kcov.config in its provenance, or --image DIR); never builds one.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=5
seed=1
image=""
out=kernel-coverage-bench
arms=(guided unguided no-trace)
bpfdiff=${BPFDIFF:-build/release/bin/bpfdiff}

usage() {
  cat <<EOF
Usage: scripts/kernel-coverage-bench.sh [--minutes N] [--seed S] [--image DIR] [--out DIR] [--arms LIST]
  --minutes N   campaign budget per arm (default $minutes)
  --seed S      the seed every arm uses (default $seed)
  --image DIR   the KCOV guest image (default: the newest build/guest/images/* built with --kcov
                and no other patch)
  --out DIR     DIR/ARM/ per campaign, DIR/bench.txt (default $out)
  --arms LIST   comma-separated subset of guided,unguided,no-trace
EOF
}

while (($#)); do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --arms) IFS=, read -r -a arms <<<"$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "kernel-coverage-bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ -z $image ]]; then
  for dir in $(ls -td build/guest/images/*/ 2>/dev/null); do
    prov="$dir/provenance"
    [[ -f $prov ]] || continue
    grep -q '^config .*kcov.config' "$prov" || continue
    grep '^patch ' "$prov" | grep -vq 'kcov-bpf-only.patch' && continue
    image=${dir%/}
    break
  done
fi
[[ -n $image && -f $image/vmlinuz ]] ||
  { echo "kernel-coverage-bench: no KCOV image (build one: scripts/build-guest.sh --source 6.12 --kcov --no-current)" >&2; exit 2; }
[[ -x $bpfdiff ]] || { echo "kernel-coverage-bench: $bpfdiff is missing (build the release preset)" >&2; exit 2; }

mkdir -p "$out"
for arm in "${arms[@]}"; do
  case "$arm" in
    guided) extra=() ;;
    unguided) extra=(--unguided) ;;
    no-trace) extra=(--no-kernel-coverage) ;;
    *) echo "kernel-coverage-bench: unknown arm '$arm'" >&2; exit 2 ;;
  esac
  rm -rf "${out:?}/$arm"
  echo "kernel-coverage-bench: $arm, $minutes min, seed $seed, image $image (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  BPFDIFF_GUEST_DIR=$image BPFDIFF_GUEST_POOL=1 nice -n 10 "$bpfdiff" fuzz --engines interp,kernel-qemu \
    --isa-version 4 --max-instructions 128 --minutes "$minutes" --seed "$seed" --out "$out/$arm" \
    "${extra[@]}" >"$out/$arm.log" 2>&1 || true
  [[ -f $out/$arm/report.json ]] || { echo "kernel-coverage-bench: $arm wrote no report (see $out/$arm.log)" >&2; exit 1; }
done

python3 - "$out" "${arms[@]}" <<'PY' | tee "$out/bench.txt"
import json, sys
out, arms = sys.argv[1], sys.argv[2:]
reports = {a: json.load(open(f"{out}/{a}/report.json")) for a in arms}
traced = [a for a in arms if reports[a]["coverage"]["traced"]]
common = min((reports[a]["programs"] for a in traced), default=0)
def edges_at(report, programs):
    best = 0
    for p in report["coverage"]["timeline"]:
        if p["programs"] <= programs:
            best = max(best, p["edges"])
    return best
print(f"{'arm':10} {'programs':>9} {'prog/s':>7} {'edges':>7} {'edges@' + str(common):>12} {'corpus':>7}")
for a in arms:
    r = reports[a]
    c = r["coverage"]
    at = edges_at(r, common) if c["traced"] else "-"
    edges = c["edges"] if c["traced"] else "-"
    print(f"{a:10} {r['programs']:>9} {r['programs_per_second']:>7.1f} {edges:>7} {at:>12} {c['corpus']:>7}")
PY
