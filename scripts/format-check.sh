#!/usr/bin/env bash
# Fails when a tracked C++ source is not formatted as .clang-format says.
#   bash scripts/format-check.sh          check (run by scripts/test.sh)
#   bash scripts/format-check.sh --fix    rewrite the files in place
# The BPF C programs under corpus/ and tests/elf/objects are compiled into
# checked-in objects and test expectations (line info), so they are left as written.
set -euo pipefail
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format || true)
if [[ -z "$cf" ]]; then
  echo "format-check: clang-format-14 not found (scripts/install-deps.sh installs it)" >&2
  exit 2
fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cc' | grep -v -e '^corpus/' -e '^tests/elf/objects/')
if [[ "${1:-}" == "--fix" ]]; then
  "$cf" -i "${files[@]}"
  echo "format-check: formatted ${#files[@]} files"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$cf" --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  printf 'format-check: %d of %d files are not clang-formatted (bash scripts/format-check.sh --fix):\n' \
    "${#bad[@]}" "${#files[@]}" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "format-check: ${#files[@]} files formatted"
