# Sourced by scripts/build-guest.sh for --source: builds a guest kernel from
# Debian's linux-source-X.Y package (the Debian patches are already applied in
# it) with a small configuration (base.config, plus kcov.config / kasan.config)
# and the given patches on top.
#
# Cache layout under $src_cache (default build/kernel-src):
#   debs/                      the downloaded linux-source-X.Y .deb files
#   linux-source-VERSION/      the unpacked tree, shared by every build of that
#                              version; .bpfdiff-applied/ holds copies of the
#                              patches applied to it now, in order, so that the
#                              next build reverts them first
#   obj-VERSION-CONFIGKEY/     out-of-tree objects per configuration: a build
#                              after a one-file patch recompiles only that file
#   kernels/KEY/bzImage        finished kernels, by the full key
# The key hashes the package and version, the configuration fragments, the
# patch contents in order and this file's recipe version; the same key means
# the same kernel, and a cached one is reused without touching the tree.
#
# Expects from the caller: say, die, $source_series, $source_version (may be
# empty), $patches (absolute paths), $kcov, $kasan, $src_cache.

# Bump when the build steps below change what a given key produces.
readonly kernel_recipe_version=1
readonly fragment_dir="$PWD/scripts/guest-kernel"  # the caller runs from the repository root

# --kcov instruments only the verifier and the JIT: a recipe patch of ours,
# applied before the caller's patches and part of the key like them.
if ((kcov)); then
  patches=("$fragment_dir/kcov-bpf-only.patch" "${patches[@]}")
fi

# The Debian version of linux-source-$source_series to build: as pinned, else
# the candidate of this machine's apt lists, else the newest .deb downloaded.
resolve_source_version() {
  if [[ -n $source_version ]]; then
    echo "$source_version"
    return
  fi
  local v
  v=$(apt-cache policy "linux-source-$source_series" 2>/dev/null </dev/null | awk '/Candidate:/ {print $2; exit}')
  if [[ -z $v || $v == "(none)" ]]; then
    v=$(ls "$src_cache/debs/linux-source-${source_series}_"*.deb 2>/dev/null | sed 's/.*_\(.*\)_all\.deb/\1/' |
        sort -V | tail -n1)
  fi
  [[ -n $v ]] || die "no version of linux-source-$source_series is known here (run apt-get update, or pass --source-version)"
  echo "$v"
}

# The configuration fragments of this build, in merge order.
config_fragments() {
  echo "$fragment_dir/base.config"
  ((kcov)) && echo "$fragment_dir/kcov.config"
  ((kasan)) && echo "$fragment_dir/kasan.config"
  return 0
}

# Key of the configuration alone (names the object directory).
config_key() {
  local f
  {
    echo "recipe $kernel_recipe_version"
    while read -r f; do
      echo "fragment $(basename "$f")"
      cat "$f"
    done < <(config_fragments)
  } | sha256sum | cut -c1-16
}

# Key of the whole kernel: package, version, configuration, patches in order.
# Patch names do not count (a renamed patch is the same kernel), contents do.
kernel_key() {  # $1: version
  local p
  {
    echo "linux-source-$source_series $1"
    echo "config $(config_key)"
    for p in "${patches[@]}"; do
      echo "patch $(sha256sum <"$p" | cut -c1-64)"
    done
  } | sha256sum | cut -c1-24
}

# Unpacks the source tree of $1 (version) once; echoes its path.
ensure_source_tree() {
  local version="$1" tree="$src_cache/linux-source-$1" deb
  if [[ -f $tree/.bpfdiff-unpacked ]]; then
    echo "$tree"
    return
  fi
  mkdir -p "$src_cache/debs"
  deb=$(ls "$src_cache/debs/linux-source-${source_series}_${version}_all.deb" 2>/dev/null || true)
  if [[ -z $deb ]]; then
    say "downloading linux-source-$source_series=$version (about 150 MB)" >&2
    (cd "$src_cache/debs" && apt-get download "linux-source-$source_series=$version" </dev/null \
      >"$src_cache/debs/download.log" 2>&1) ||
      die "apt-get download linux-source-$source_series=$version failed (see $src_cache/debs/download.log)"
    deb="$src_cache/debs/linux-source-${source_series}_${version}_all.deb"
  fi
  say "unpacking $(basename "$deb")" >&2
  local stage
  stage=$(mktemp -d "$src_cache/unpack.XXXXXX")
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$stage" --wildcards "./usr/src/linux-source-$source_series.tar.*"
  local tarball
  tarball=$(ls "$stage/usr/src/linux-source-$source_series.tar."*)
  mkdir -p "$stage/tree"
  tar -xf "$tarball" -C "$stage/tree"
  rm -rf "$tree"
  mv "$stage/tree/linux-source-$source_series" "$tree"
  rm -rf "$stage"
  mkdir -p "$tree/.bpfdiff-applied"
  touch "$tree/.bpfdiff-unpacked"
  echo "$tree"
}

# Reverts the patches applied to the shared tree by the previous build (in
# reverse order), then applies this build's. A tree that does not revert
# cleanly is unpacked again rather than built in an unknown state.
apply_patches() {  # $1: tree
  local tree="$1" applied="$1/.bpfdiff-applied" p i
  local previous=()
  mapfile -t previous < <(ls "$applied" 2>/dev/null | LC_ALL=C sort)
  # Already exactly these patches: nothing to do (keeps mtimes, so no rebuild).
  if ((${#previous[@]} == ${#patches[@]})); then
    local same=1
    for i in "${!patches[@]}"; do
      cmp -s "${patches[$i]}" "$applied/${previous[$i]}" || same=0
    done
    ((same)) && return 0
  fi
  for ((i = ${#previous[@]} - 1; i >= 0; i--)); do
    if ! patch -d "$tree" -p1 -R -s --no-backup-if-mismatch <"$applied/${previous[$i]}" >/dev/null; then
      return 1
    fi
    rm -f "$applied/${previous[$i]}"
  done
  for i in "${!patches[@]}"; do
    p="${patches[$i]}"
    if ! patch -d "$tree" -p1 -s -f --dry-run <"$p" >/dev/null 2>&1; then
      # Leave the tree as the previous patches of this build made it; record them.
      die "patch $p does not apply to linux-source-$source_series ($(basename "$tree")): $(patch -d "$tree" -p1 -f --dry-run <"$p" 2>&1 | head -n3 | tr '\n' ' ')"
    fi
    patch -d "$tree" -p1 -s -f --no-backup-if-mismatch <"$p" >/dev/null
    cp "$p" "$applied/$(printf '%03d' "$i")-$(basename "$p")"
  done
  return 0
}

# Builds (or reuses) the kernel; sets kernel_image, release and image_name.
build_source_kernel() {
  for tool in make gcc flex bison bc patch perl; do
    command -v "$tool" >/dev/null || die "'$tool' is missing (a kernel build needs it); run scripts/install-deps.sh"
  done
  local version key conf_key
  version=$(resolve_source_version)
  key=$(kernel_key "$version")
  conf_key=$(config_key)
  mkdir -p "$src_cache/kernels"
  src_cache=$(cd "$src_cache" && pwd)
  local done_dir="$src_cache/kernels/$key"
  image_name="linux-$source_series-$(echo "$version" | tr -c 'A-Za-z0-9.+\n' '-')-$key"
  if [[ -f $done_dir/bzImage && -f $done_dir/release ]]; then
    say "kernel cached: $done_dir"
  else
    # One kernel build at a time per cache: the tree and objects are shared.
    exec 9>"$src_cache/lock"
    flock 9
    local tree
    tree=$(ensure_source_tree "$version")
    if ! apply_patches "$tree"; then
      say "the source tree does not revert cleanly; unpacking it again"
      rm -f "$tree/.bpfdiff-unpacked"
      tree=$(ensure_source_tree "$version")
      apply_patches "$tree" || die "cannot apply the patches to a fresh tree"
    fi
    local obj="$src_cache/obj-$version-$conf_key"
    mkdir -p "$obj"
    local log="$obj/build.log"
    local make_args=(-C "$tree" O="$obj" ARCH=x86_64 LOCALVERSION="-bpfdiff-${key:0:8}")
    if [[ ! -f $obj/.config-done ]]; then
      say "configuring (tinyconfig + $(config_fragments | xargs -n1 basename | tr '\n' ' '))"
      make "${make_args[@]}" tinyconfig >"$log" 2>&1 || die "make tinyconfig failed (see $log)"
      local fragments=()
      mapfile -t fragments < <(config_fragments)
      (cd "$tree" && scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" "${fragments[@]}") \
        >>"$log" 2>&1 || die "merging the configuration failed (see $log)"
      make "${make_args[@]}" olddefconfig >>"$log" 2>&1 || die "make olddefconfig failed (see $log)"
      check_config "$obj/.config" "${fragments[@]}"
      touch "$obj/.config-done"
    fi
    local began=$SECONDS
    say "building the kernel (nice -n 10 make -j${BPFDIFF_KERNEL_JOBS:-2}; log $log)"
    nice -n 10 make "${make_args[@]}" -j"${BPFDIFF_KERNEL_JOBS:-2}" bzImage >>"$log" 2>&1 ||
      die "the kernel build failed (see $log): $(grep -m3 -E 'error|Error' "$log" | tr '\n' ' ')"
    local built_release
    built_release=$(make -s "${make_args[@]}" kernelrelease 2>/dev/null)
    mkdir -p "$done_dir.tmp"
    cp "$obj/arch/x86/boot/bzImage" "$done_dir.tmp/bzImage"
    cp "$obj/.config" "$done_dir.tmp/config"
    echo "$built_release" >"$done_dir.tmp/release"
    {
      echo "package linux-source-$source_series $version"
      echo "config $(config_fragments | xargs -n1 basename | tr '\n' ' ')"
      for p in "${patches[@]}"; do echo "patch $p $(sha256sum <"$p" | cut -c1-16)"; done
      echo "build_seconds $((SECONDS - began))"
      echo "load_average_at_end $(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$done_dir.tmp/provenance"
    rm -rf "$done_dir" && mv "$done_dir.tmp" "$done_dir"
    flock -u 9
    say "kernel built in $((SECONDS - began)) s: $done_dir"
  fi
  kernel_image="$done_dir/bzImage"
  release=$(cat "$done_dir/release")
  kernel_provenance="$done_dir/provenance"
}

# Every option a fragment sets must hold in the final configuration.
check_config() {  # $1: .config, then the fragments
  local config="$1" f line name missing=()
  shift
  for f in "$@"; do
    while IFS= read -r line; do
      if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
        name=${BASH_REMATCH[1]}
        if [[ ${BASH_REMATCH[2]} == n ]]; then
          grep -qx "$name=[ym]" "$config" && missing+=("$name=n")
        else
          grep -qx "$line" "$config" || missing+=("$line")
        fi
      elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
        grep -qx "${BASH_REMATCH[1]}=[ym]" "$config" && missing+=("${BASH_REMATCH[1]}=n")
      fi
    done <"$f"
  done
  ((${#missing[@]} == 0)) || die "the kernel configuration lost: ${missing[*]} (a dependency is missing; see $config)"
}
