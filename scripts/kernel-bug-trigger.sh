#!/usr/bin/env bash
# Runs a planted-kernel-bug trigger (corpus/kernel-bugs/triggers/NAME.asm)
# with a raw bpf() loader as a guest kernel's only program, outside the
# harness: how each patch header's "patched vs stock" evidence was made.
#   scripts/kernel-bug-trigger.sh IMAGE_DIR TRIGGER.asm
# A "# mem: HEX" line in the trigger gives the context bytes (default 8 zero
# bytes). Prints the loader's "LOADER: ..." lines (retval, or the rejection
# with the verifier log). Needs a release build (bpfdiff asm) and cc -static.
set -euo pipefail
(($# == 2)) || { echo "usage: scripts/kernel-bug-trigger.sh IMAGE_DIR TRIGGER.asm" >&2; exit 2; }
image=$1
trigger=$2
root=$(cd "$(dirname "$0")/.." && pwd)
bpfdiff=${BPFDIFF:-$root/build/release/bin/bpfdiff}
[[ -x $bpfdiff ]] || { echo "kernel-bug-trigger: $bpfdiff is missing (build the release preset)" >&2; exit 2; }
[[ -f $trigger ]] || { echo "kernel-bug-trigger: '$trigger' is not a file" >&2; exit 2; }
mem=$(sed -n 's/^# mem: *\([0-9a-fA-F]*\).*/\1/p' "$trigger" | head -n1)
mem=${mem:-0000000000000000}
((${#mem} % 2 == 0)) || { echo "kernel-bug-trigger: '# mem:' needs whole bytes" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bpfdiff" asm -o "$work/prog.bin" "$trigger"
{
  echo "static const uint64_t prog[] = {"
  od -An -v -tx8 -w8 "$work/prog.bin" | sed 's/^ *\(.*\)$/  0x\1ULL,/'
  echo "};"
  echo "static unsigned char mem[] = {"
  echo "$mem" | sed 's/../0x&,/g'
  echo "};"
} >"$work/prog.h"
cc -static -O1 -Wall -Werror -I"$work" -o "$work/loader" "$root/scripts/guest-kernel/raw-loader.c"
bash "$root/scripts/guest-run-binary.sh" "$image" "$work/loader" | grep -A40 '^LOADER:'
