#!/usr/bin/env bash
# Builds the QEMU guest image of the kernel oracle from Debian packages:
#   1. `apt-get download` a Debian cloud kernel package (never installed on this
#      host) and unpack it with `dpkg-deb -x`;
#   2. an initramfs (cpio newc) whose /init is our statically linked agent
#      (bpfdiff-agent), plus the virtio_console and pvpanic modules and their
#      dependencies when the kernel has them as modules (decompressed here,
#      loaded by the agent with finit_module).
# Or, with --source 6.1|6.12, step 1 builds a kernel from Debian's
# linux-source package instead, with our small configuration and the given
# patches (scripts/guest-kernel/from-source.sh); such a kernel has everything
# built in, so the initramfs carries no modules.
# The result is OUT/images/NAME/{vmlinuz,initramfs.cpio,release} and the
# symlink OUT/current pointing at it, which `bpfdiff guest` and the
# kernel-qemu engines use (or pass the image directory as --image DIR).
# Idempotent and cached: the .deb and the unpacked tree are reused, the
# initramfs is rebuilt only when the agent changed.
set -euo pipefail
invoked_from=$PWD
cd "$(dirname "$0")/.."

# Debian 12's own cloud kernel (6.1): in the bookworm main archive for the
# whole point release, boots reliably under TCG. It rejects the v4
# instructions (sdiv, movsx, bswap, sign-extending loads); for those pick a
# 6.12 kernel, e.g. --kernel linux-image-6.12.117+deb12-cloud-amd64 (bookworm
# security) or --backports --kernel linux-image-6.12.90+deb12.1-cloud-amd64.
default_kernel=linux-image-6.1.0-50-cloud-amd64
kernel=""
backports=0
out=build/guest
agent=""
quiet=0
source_series=""
source_version=""
patches=()
kcov=0
kasan=0
src_cache=${BPFDIFF_KERNEL_SRC_CACHE:-build/kernel-src}
set_current=1
print_key=0

usage() {
  cat <<EOF
Usage: scripts/build-guest.sh [--kernel PACKAGE] [--backports] [--agent FILE] [--out DIR] [--quiet]
       scripts/build-guest.sh --source 6.1|6.12 [--source-version V] [--patch FILE ...] [--kcov] [--kasan]
                              [--src-cache DIR] [--no-current] [--print-key] [--agent FILE] [--out DIR] [--quiet]

Builds (or reuses) the QEMU guest image of the kernel oracle under DIR (default build/guest).
  --kernel PACKAGE  Debian kernel image package (default $default_kernel; when it has left
                    the archive, the current dependency of linux-image-cloud-amd64 is used)
  --backports       resolve PACKAGE in bookworm-backports, through a private apt configuration
                    under DIR/apt that never touches this machine's apt sources
  --agent FILE      the static agent to use as /init (default: build/release/bin/bpfdiff-agent,
                    built with the release preset when missing or out of date)
  --out DIR         cache and output directory
  --quiet           print only the final line
From source (a kernel built here, everything built in; a first build is about 14 CPU-minutes, a
  rebuild after a one-file patch recompiles that file and relinks):
  --source SERIES   build from Debian's linux-source-SERIES (6.1 or 6.12) with the configuration
                    of scripts/guest-kernel/ (tinyconfig + base.config)
  --source-version V  that Debian version of the package (default: the apt candidate)
  --patch FILE      apply FILE (patch -p1 against the kernel tree) before building; repeatable,
                    applied in order
  --kcov, --kasan   add KCOV / generic KASAN to the configuration
  --src-cache DIR   source, object and kernel cache (default build/kernel-src, or
                    \$BPFDIFF_KERNEL_SRC_CACHE); kernels are cached by package version,
                    configuration and patch contents
  --no-current      leave OUT/current alone (use the printed image directory as --image DIR)
  --print-key       print the cache key of this kernel and exit without building
EOF
}

while (($#)); do
  case "$1" in
    --kernel) kernel="$2"; shift 2 ;;
    --backports) backports=1; shift ;;
    --agent) agent="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --quiet) quiet=1; shift ;;
    --source)
      [[ ${2:-} == 6.1 || ${2:-} == 6.12 ]] || { echo "build-guest: --source takes 6.1 or 6.12, not '${2:-}'" >&2; exit 2; }
      source_series="$2"; shift 2 ;;
    --source-version) source_version="${2:?--source-version needs a version}"; shift 2 ;;
    --patch)
      p="${2:-}"
      [[ -n $p ]] || { echo "build-guest: --patch needs a file" >&2; exit 2; }
      [[ $p == /* ]] || p="$invoked_from/$p"
      [[ -f $p && -r $p ]] || { echo "build-guest: patch '$2' is not a readable file" >&2; exit 2; }
      [[ -s $p ]] || { echo "build-guest: patch '$2' is empty" >&2; exit 2; }
      patches+=("$p"); shift 2 ;;
    --kcov) kcov=1; shift ;;
    --kasan) kasan=1; shift ;;
    --src-cache) src_cache="$2"; shift 2 ;;
    --no-current) set_current=0; shift ;;
    --print-key) print_key=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-guest: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { ((quiet)) || echo "build-guest: $*"; }
die() { echo "build-guest: error: $*" >&2; exit 1; }

if [[ -z $source_series ]]; then
  ((${#patches[@]} == 0 && kcov == 0 && kasan == 0 && print_key == 0)) && [[ -z $source_version ]] ||
    { echo "build-guest: --patch, --kcov, --kasan, --source-version and --print-key need --source" >&2; exit 2; }
else
  [[ -z $kernel ]] && ((backports == 0)) ||
    { echo "build-guest: --source builds its own kernel; it does not take --kernel or --backports" >&2; exit 2; }
  # shellcheck source=scripts/guest-kernel/from-source.sh
  source scripts/guest-kernel/from-source.sh
  if ((print_key)); then
    kernel_key "$(resolve_source_version)"
    exit 0
  fi
fi

for tool in apt-get dpkg-deb depmod cpio xz; do
  command -v "$tool" >/dev/null || die "'$tool' is missing; run scripts/install-deps.sh"
done

mkdir -p "$out/debs"
out=$(cd "$out" && pwd)

if [[ -n $source_series ]]; then
  build_source_kernel
  pkg=$image_name
  image="$out/images/$pkg"
  moddir=""  # everything is built in
else

# --- apt: the system configuration, or a private one for backports ---------
apt_opts=()
if ((backports)); then
  priv="$out/apt"
  mkdir -p "$priv/lists/partial" "$priv/cache/archives/partial"
  echo "deb http://deb.debian.org/debian bookworm-backports main" >"$priv/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$priv/sources.list" -o "Dir::Etc::sourceparts=/nonexistent"
            -o "Dir::State::Lists=$priv/lists" -o "Dir::Cache=$priv/cache")
  # Refresh the private lists at most once a day.
  if [[ -z $(find "$priv/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null) ]]; then
    say "updating the private bookworm-backports package lists"
    apt-get "${apt_opts[@]}" update </dev/null >"$priv/update.log" 2>&1 ||
      die "bookworm-backports is unreachable from here (apt-get update failed, see $priv/update.log)"
  fi
fi

# The kernel package: as asked, else the pinned default, else whatever the
# cloud meta-package depends on now (the archive drops old ABI packages).
resolve_kernel() {
  local want="$1"
  if apt-cache "${apt_opts[@]}" show "$want" </dev/null >/dev/null 2>&1; then
    echo "$want"
    return
  fi
  [[ -n $kernel ]] && die "no package '$want' in the apt lists$( ((backports)) && echo ' of bookworm-backports')"
  local dep
  dep=$(apt-cache "${apt_opts[@]}" depends linux-image-cloud-amd64 </dev/null 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [[ -n $dep ]] || die "neither $want nor linux-image-cloud-amd64 is in the apt lists (run apt-get update)"
  echo "build-guest: $want has left the archive; using $dep" >&2
  echo "$dep"
}

pkg=$(resolve_kernel "${kernel:-$default_kernel}")
image="$out/images/$pkg"
tree="$out/unpacked/$pkg"

deb=$(ls "$out/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
if [[ -z $deb ]]; then
  say "downloading $pkg"
  (cd "$out/debs" && apt-get "${apt_opts[@]}" download "$pkg" </dev/null >"$out/debs/download.log" 2>&1) ||
    die "apt-get download $pkg failed (see $out/debs/download.log)"
  deb=$(ls "$out/debs/${pkg}_"*.deb | head -n1)
fi

if [[ ! -f $tree/.unpacked ]]; then
  say "unpacking $(basename "$deb")"
  rm -rf "$tree" && mkdir -p "$tree"
  dpkg-deb -x "$deb" "$tree"
  touch "$tree/.unpacked"
fi

release=$(ls "$tree/lib/modules" | head -n1)
[[ -n $release && -f $tree/boot/vmlinuz-$release ]] || die "$deb holds no kernel image"
moddir="$tree/lib/modules/$release"
[[ -f $moddir/modules.dep ]] || depmod -b "$tree" "$release"
kernel_image="$tree/boot/vmlinuz-$release"
fi

# --- the agent ---------------------------------------------------------------
if [[ -z $agent ]]; then
  agent=build/release/bin/bpfdiff-agent
  say "building bpfdiff-agent (release preset)"
  if ((quiet)); then
    cmake --preset release >/dev/null && cmake --build build/release --target bpfdiff-agent >/dev/null
  else
    cmake --preset release >/dev/null && cmake --build build/release --target bpfdiff-agent
  fi
fi
[[ -x $agent ]] || die "agent '$agent' is not an executable"
file -L "$agent" 2>/dev/null | grep -q 'statically linked' ||
  ldd "$agent" 2>&1 | grep -q 'not a dynamic executable' || die "agent '$agent' is not statically linked"

# --- modules: wanted ones and their dependencies, in load order ---------------
declare -A seen=()
ordered=()
add_module() {  # $1: module name (dashes or underscores)
  local name="${1//-/_}" line path deps d
  [[ -n ${seen[$name]:-} ]] && return
  seen[$name]=1
  line=$(awk -v n="$name" -F: '{p=$1; sub(/.*\//, "", p); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", p); gsub(/-/, "_", p);
                               if (p == n) {print; exit}}' "$moddir/modules.dep")
  if [[ -z $line ]]; then
    if grep -Eq "/${1//_/[-_]}\.ko$" "$moddir/modules.builtin"; then return; fi
    die "module $1 is neither built into $release nor shipped with it"
  fi
  path=${line%%:*}
  deps=${line#*:}
  for d in $deps; do
    d=$(basename "$d"); d=${d%%.ko*}
    add_module "$d"
  done
  ordered+=("$path")
}
if [[ -n $moddir ]]; then
  for m in virtio virtio_ring virtio_pci virtio_console pvpanic pvpanic_mmio pvpanic_pci; do
    add_module "$m"
  done
fi

# --- the initramfs -----------------------------------------------------------
stamp="$(sha256sum "$agent" | cut -c1-16) ${ordered[*]}"
if [[ -f $image/initramfs.cpio && -f $image/stamp && $(cat "$image/stamp") == "$stamp" ]]; then
  say "up to date: $image ($release)"
else
  say "building the initramfs ($release; modules: ${#ordered[@]})"
  stage=$(mktemp -d "$out/stage.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage"/{proc,sys,dev,modules}
  install -m 0755 "$agent" "$stage/init"
  # The kernel gives init a console only if /dev/console exists in the
  # initramfs; the agent reopens it after mounting devtmpfs in any case.
  mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null || true
  i=0
  for rel in "${ordered[@]}"; do
    src="$moddir/$rel"
    name=$(printf '%02d-%s' "$i" "$(basename "${rel%%.ko*}").ko")
    case "$rel" in
      *.ko.xz) xz -dc "$src" >"$stage/modules/$name" ;;
      *.ko.zst) zstd -qdc "$src" >"$stage/modules/$name" ;;
      *.ko.gz) gzip -dc "$src" >"$stage/modules/$name" ;;
      *) cp "$src" "$stage/modules/$name" ;;
    esac
    i=$((i + 1))
  done
  mkdir -p "$image.tmp"
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --owner 0:0) >"$image.tmp/initramfs.cpio"
  cp "$kernel_image" "$image.tmp/vmlinuz"
  [[ -n ${kernel_provenance:-} ]] && cp "$kernel_provenance" "$image.tmp/provenance"
  echo "$release" >"$image.tmp/release"
  echo "$pkg" >"$image.tmp/package"
  echo "$stamp" >"$image.tmp/stamp"
  rm -rf "$image" && mv "$image.tmp" "$image"
fi

if ((set_current)); then
  # Point `current` at this image atomically (rename over the old link).
  ln -sfn "images/$pkg" "$out/current.tmp" && mv -T "$out/current.tmp" "$out/current"
  say "guest image ready: $out/current -> images/$pkg ($release)"
  ((quiet)) && echo "build-guest: $out/current ($release)"
else
  say "guest image ready: $image ($release)"
  ((quiet)) && echo "build-guest: $image ($release)"
fi
exit 0
