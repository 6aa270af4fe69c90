#!/usr/bin/env bash
# Installs every Debian package bpfdiff needs to build, test, fuzz and run its oracles.
# Idempotent and non-interactive: safe to run on every invocation of the README commands.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ccache
  clang-14 lld-14 llvm-14 libclang-rt-14-dev clang-format-14
  # libraries
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libz3-dev libzydis-dev libelf-dev libbpf-dev zlib1g-dev
  # fuzzing
  afl++
  # scripts: JSON in shell (planted-bug.sh, fuzz-bench.sh, kernel-matrix.sh), and
  # Python for the coverage, benchmark and perf-gate summaries
  jq python3
  # kernel oracle guest
  qemu-system-x86 busybox-static cpio kmod xz-utils
  # guest kernels built from source (build-guest.sh --source; the 150 MB
  # linux-source package itself is downloaded on demand by that script)
  flex bison bc patch
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
