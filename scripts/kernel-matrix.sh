#!/usr/bin/env bash
# The nightly kernel matrix: one kernel campaign per kernel this machine can
# run -- the host kernel (bpf(), its JIT) and Debian's 6.1 and 6.12 cloud
# kernels as QEMU guests (each with its JIT and its interpreter) -- then one
# summary with a section per kernel: OUT/matrix.md and OUT/matrix.json.
#
# Each campaign is an ordinary `bpfdiff fuzz --engines ...` run in OUT/<kernel>/
# (its report.json, report and findings/ are there; the same OUT resumes it).
# A kernel that cannot be run here (bpf() not permitted, a guest image that
# cannot be built because the package is not in the apt lists) gets a section
# saying why, and does not fail the matrix.
#
# Why the host has no interpreter column: the kernel interpreter is chosen by
# the global sysctl net.core.bpf_jit_enable, which would switch every BPF
# program of this machine to it for the whole campaign (and the host kernel may
# be built with CONFIG_BPF_JIT_ALWAYS_ON); a guest is ours alone.
#
# Exit: 0 when every campaign that ran ended without a new finding (known kernel
# bugs of corpus/kernel-findings are listed, not failed), 1 when one reported a
# new finding, 2 on usage errors or when a campaign failed to run.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=30
out=build/kernel-matrix
kernels="host,6.1,6.12"
extra=()

usage() {
  cat <<EOF
Usage: scripts/kernel-matrix.sh [--minutes M] [--out DIR] [--kernels LIST] [-- FUZZ-ARGS...]
  --minutes M     minutes per kernel campaign (default $minutes)
  --out DIR       output directory (default $out); OUT/matrix.md is the summary
  --kernels LIST  comma-separated subset of host,6.1,6.12 (default $kernels)
  FUZZ-ARGS       passed to every \`bpfdiff fuzz\` (e.g. --max-instructions 64)
The guest images are built (or reused) by scripts/build-guest.sh from Debian's
cloud kernel packages: 6.1 is Debian 12's own, 6.12 the newest
linux-image-6.12.*+deb12-cloud-amd64 in the apt lists.
EOF
}

while (($#)); do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --kernels) kernels="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) usage; exit 0 ;;
    *) echo "kernel-matrix: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $minutes =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "kernel-matrix: --minutes takes a number, not '$minutes'" >&2; exit 2; }
command -v jq >/dev/null || { echo "kernel-matrix: needs jq (scripts/install-deps.sh)" >&2; exit 2; }

# $BPFDIFF: the CLI to use (tests pass their build's); by default the release
# build's, built when missing.
bpfdiff=${BPFDIFF:-build/release/bin/bpfdiff}
if [[ -z ${BPFDIFF:-} && ! -x $bpfdiff ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target bpfdiff bpfdiff-agent
fi
mkdir -p "$out"
sections=()  # one JSON object per kernel, appended to as campaigns end
overall=0

# The newest 6.12 cloud kernel package of Debian 12 in the apt lists.
newest_612() {
  apt-cache pkgnames linux-image-6.12 2>/dev/null | grep -E '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64$' |
    sort -V | tail -1
}

# section NAME STATUS NOTE [DIR]: records one kernel's outcome for the summary.
section() {
  local name=$1 status=$2 note=$3 dir=${4:-}
  local report=null
  [[ -n $dir && -f $dir/report.json ]] && report=$(cat "$dir/report.json")
  sections+=("$(jq -n --arg name "$name" --arg status "$status" --arg note "$note" --arg dir "$dir" \
    --argjson report "$report" '{kernel: $name, status: $status, note: $note, dir: $dir, report: $report}')")
}

# campaign NAME DIR ENGINES ISA [ENV...]: one kernel's campaign; its exit
# status decides the section's status (0 agree, 1 findings, else failed).
# One TCG guest per core (a guest's vCPU is one host thread): the JIT and
# interpreter engines share each guest, so with one guest a campaign leaves
# the other cores idle. FUZZ-ARGS with --guests choose otherwise.
guest_args=(--guests "$(nproc)")
for a in "${extra[@]}"; do [[ $a == --guests* ]] && guest_args=(); done

campaign() {
  local name=$1 dir=$2 engines=$3 isa=$4
  shift 4
  local guests=()
  [[ $engines == *kernel-qemu* ]] && guests=("${guest_args[@]}")
  echo "kernel-matrix: $name: bpfdiff fuzz --engines $engines --isa-version $isa --minutes $minutes ${guests[*]} --out $dir"
  local status=0
  env "$@" nice -n 10 "$bpfdiff" fuzz --engines "$engines" --isa-version "$isa" --minutes "$minutes" \
    --progress 60 --out "$dir" "${guests[@]}" "${extra[@]}" || status=$?
  case $status in
    0) section "$name" agree "" "$dir" ;;  # known kernel bugs alone (listed) do not fail it
    1) section "$name" findings "" "$dir"; ((overall == 0)) && overall=1 ;;
    *) section "$name" failed "bpfdiff fuzz exited $status" "$dir"; overall=2 ;;
  esac
}

IFS=, read -r -a wanted <<<"$kernels"
for k in "${wanted[@]}"; do
  [[ $k == host || $k == 6.1 || $k == 6.12 ]] || { echo "kernel-matrix: unknown kernel '$k' (host, 6.1, 6.12)" >&2; exit 2; }
done
for k in "${wanted[@]}"; do
  case $k in
    host)
      if "$bpfdiff" run corpus/examples/factorial.asm --engine kernel-host >/dev/null 2>&1; then
        campaign host "$out/host" interp,jit,kernel-host 4
      else
        section host skipped "bpf() is not permitted on this machine (bpfdiff run --engine kernel-host fails)"
      fi
      ;;
    6.1 | 6.12)
      pkg=""
      [[ $k == 6.12 ]] && { pkg=$(newest_612); [[ -n $pkg ]] || { section "$k" skipped "no linux-image-6.12.*+deb12-cloud-amd64 in the apt lists"; continue; }; }
      args=(--no-current --quiet)
      [[ -n $pkg ]] && args+=(--kernel "$pkg")
      if ! built=$(bash scripts/build-guest.sh "${args[@]}" 2>"$out/build-guest-$k.log"); then
        section "$k" skipped "scripts/build-guest.sh ${args[*]} failed: $(tail -1 "$out/build-guest-$k.log")"
        continue
      fi
      # "build-guest: DIR (RELEASE)"
      image=${built#build-guest: }
      image=${image% (*}
      # 6.1 predates the v4 instructions (sdiv, movsx, bswap, sign-extending
      # loads): at v4 a third of its programs would be rejected for them alone.
      isa=4
      [[ $k == 6.1 ]] && isa=3
      campaign "$k" "$out/guest-$k" interp,jit,kernel-qemu,kernel-qemu-interp "$isa" BPFDIFF_GUEST_DIR="$image"
      ;;
  esac
done

printf '%s\n' "${sections[@]}" | jq -s '{kind: "kernel matrix", sections: .}' >"$out/matrix.json.tmp"
mv "$out/matrix.json.tmp" "$out/matrix.json"

# The human summary: a section per kernel, a row per kernel engine.
jq -r --arg minutes "$minutes" '
  def pct: . * 10 | round / 10 | tostring + "%";
  "# Kernel matrix (" + $minutes + " minutes per kernel)\n",
  (.sections[] |
    "## " + .kernel + ": " + .status + (if .note != "" then " -- " + .note else "" end),
    (if .report == null then "" else
      (.report as $r |
        "ISA v" + ($r.isa_version | tostring) + ", programs " + ($r.programs | tostring) + " in " + ($r.seconds | round | tostring) + " s (" +
        ($r.programs_per_second * 10 | round / 10 | tostring) + "/s), findings " +
        ($r.findings | length | tostring) + ", report " + .dir + "/report.json\n",
        "| engine | release | programs | accepted | agreement | kernel rejects | not comparable | top rejection |",
        "|---|---|---|---|---|---|---|---|",
        ($r.kernels | to_entries[] |
          "| " + .key + " | " + (.value.release // "?") + " | " + (.value.programs | tostring) + " | " +
          (.value.acceptance_percent | pct) + " | " + (.value.agreement_percent | pct) + " | " +
          ((.value["kernel-rejects"] // 0) | tostring) + " | " + ((.value["not-comparable"] // 0) | tostring) +
          " | " + ((.value.top_rejection_reasons // [])[0] |
                   if . == null then "" else .reason + " (" + (.count | tostring) + ")" end) + " |"),
        "",
        (if ($r.findings | length) > 0 then
           "findings:", ($r.findings[] | "- " + (.signature // .id // tostring) +
             (if (.known_kernel_bug // "") != "" then
                " (known kernel bug: corpus/kernel-findings/" + .known_kernel_bug + ")"
              else "" end)), ""
         else empty end))
    end))
' "$out/matrix.json" >"$out/matrix.md"
cat "$out/matrix.md"
echo "kernel-matrix: summary in $out/matrix.md and $out/matrix.json"
exit "$overall"
