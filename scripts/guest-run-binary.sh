#!/usr/bin/env bash
# Boots a guest image's kernel with a static binary as its only program (/init)
# and prints what it writes to the console: how a finding's standalone C
# reproducer (repro.c) is run on a guest kernel outside the harness, with no
# agent, wrapper or instrumentation of ours in the guest.
#   scripts/guest-run-binary.sh IMAGE_DIR BINARY    (BINARY: e.g. cc -static -O1 -o repro repro.c)
# The binary's exit ends the guest (the kernel panics when init exits, and
# QEMU leaves at once with -no-reboot); the kernel's own messages up to that
# point are shown too, so a WARN or a sanitizer report is visible.
set -euo pipefail
(($# == 2)) || { echo "usage: scripts/guest-run-binary.sh IMAGE_DIR STATIC_BINARY" >&2; exit 2; }
image="$1"
binary="$2"
[[ -f $image/vmlinuz ]] || { echo "guest-run-binary: $image has no vmlinuz (scripts/build-guest.sh)" >&2; exit 2; }
[[ -x $binary ]] || { echo "guest-run-binary: $binary is not an executable" >&2; exit 2; }
file -L "$binary" | grep -q 'statically linked' ||
  { echo "guest-run-binary: $binary is not statically linked (cc -static)" >&2; exit 2; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/root/dev"
install -m 0755 "$binary" "$stage/root/init"
# Without /dev/console in the initramfs the kernel gives init no stdout.
mknod -m 0600 "$stage/root/dev/console" c 5 1
(cd "$stage/root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --owner 0:0) >"$stage/initramfs.cpio"
timeout 300 qemu-system-x86_64 -accel tcg -cpu max -m 512 -smp 1 -nodefaults -no-user-config -display none \
  -no-reboot -kernel "$image/vmlinuz" -initrd "$stage/initramfs.cpio" \
  -append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" -serial stdio </dev/null |
  sed -e '/Kernel panic - not syncing: Attempted to kill init/,$d'
