#!/usr/bin/env bash
# Coverage guidance on a KCOV guest kernel, measured: three kernel campaigns
# of the same seed and the same minutes on the same image, one after the
# other, or all at once with --parallel (one guest each; at once, every arm
# sees the same load from the rest of the machine, which on a shared machine
# matters more than the arms' competing with each other):
#   guided     programs that reach new verifier/JIT edges are the corpus
#   unguided   the edges are counted, the corpus is the accepted programs
#   no-trace   no coverage asked for (programs/s without KCOV tracing)
# Prints, per arm: programs, programs/s, verifier/JIT edges at the end and at
# the program count every arm reached (from report.json's timeline), corpus,
# mutants, and programs given up on as too slow (--request-limit).
# Needs an image of `scripts/build-guest.sh --source 6.12 --kcov` (found by
# kcov.config in its provenance, or --image DIR); never builds one.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=5
seed=1
image=""
out=kernel-coverage-bench
arms=(guided unguided no-trace)
parallel=0
request_limit=""
bpfdiff=${BPFDIFF:-build/release/bin/bpfdiff}

usage() {
  cat <<EOF
Usage: scripts/kernel-coverage-bench.sh [--minutes N] [--seed S] [--image DIR] [--out DIR] [--arms LIST]
         [--parallel] [--request-limit S]
  --minutes N   campaign budget per arm (default $minutes)
  --seed S      the seed every arm uses (default $seed)
  --image DIR   the KCOV guest image (default: the newest build/guest/images/* built with --kcov
                and no other patch)
  --out DIR     DIR/ARM/ per campaign, DIR/bench.txt (default $out)
  --arms LIST   comma-separated subset of guided,unguided,no-trace
  --parallel    run the arms at the same time (one TCG guest each) instead of one after the other
  --request-limit S  every arm gives up on a program its guest is still busy with after S seconds
                (--guest-request-limit; default: the campaign's 60 s)
EOF
}

while (($#)); do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --image) image="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --arms) IFS=, read -r -a arms <<<"$2"; shift 2 ;;
    --parallel) parallel=1; shift ;;
    --request-limit) request_limit="$2"; shift 2 ;;
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
run_arm() {
  local arm=$1 extra=()
  case "$arm" in
    guided) ;;
    unguided) extra=(--unguided) ;;
    no-trace) extra=(--no-kernel-coverage) ;;
  esac
  [[ -n $request_limit ]] && extra+=(--guest-request-limit "$request_limit")
  BPFDIFF_GUEST_DIR=$image BPFDIFF_GUEST_POOL=1 nice -n 10 "$bpfdiff" fuzz --engines interp,kernel-qemu \
    --isa-version 4 --max-instructions 128 --minutes "$minutes" --seed "$seed" --out "$out/$arm" \
    "${extra[@]}" >"$out/$arm.log" 2>&1 || true
}
for arm in "${arms[@]}"; do
  case "$arm" in
    guided | unguided | no-trace) rm -rf "${out:?}/$arm" ;;
    *) echo "kernel-coverage-bench: unknown arm '$arm'" >&2; exit 2 ;;
  esac
done
pids=()
for arm in "${arms[@]}"; do
  echo "kernel-coverage-bench: $arm, $minutes min, seed $seed${request_limit:+, request limit ${request_limit} s}, image $image (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  if ((parallel)); then
    run_arm "$arm" &
    pids+=($!)
  else
    run_arm "$arm"
  fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "kernel-coverage-bench: done (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
for arm in "${arms[@]}"; do
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
def edges_by(report, seconds):
    best = 0
    for p in report["coverage"]["timeline"]:
        if p["seconds"] <= seconds:
            best = max(best, p["edges"])
    return best
# Edges after 10 minutes too, when the arms ran longer (the issue's figures are at 10 and 60).
ten = all(r["seconds"] > 600 for r in reports.values())
head = f"{'arm':10} {'programs':>9} {'prog/s':>7} {'edges':>7} {'edges@' + str(common):>12}"
head += f" {'edges@10min':>12}" if ten else ""
print(head + f" {'corpus':>7} {'mutants':>8} {'too slow':>9}")
for a in arms:
    r = reports[a]
    c = r["coverage"]
    at = edges_at(r, common) if c["traced"] else "-"
    edges = c["edges"] if c["traced"] else "-"
    line = f"{a:10} {r['programs']:>9} {r['programs_per_second']:>7.1f} {edges:>7} {at:>12}"
    if ten:
        line += f" {edges_by(r, 600) if c['traced'] else '-':>12}"
    by_kernel = r.get("sources", {}).get("verifier-stress-mutant", {})
    mutants = max((k["programs"] for k in by_kernel.values()), default=0)
    # Programs given up on because a guest was busy with them past the request limit.
    too_slow = r.get("not_judged", {}).get("by_reason", {}).get("too slow", 0)
    print(line + f" {c['corpus']:>7} {mutants:>8} {too_slow:>9}")
PY
