#!/usr/bin/env bash
# A stand-in for a libFuzzer target binary, for the campaign's tests: it
# takes libFuzzer's arguments, prints libFuzzer's status lines, adds to the
# corpus, and the first time it runs in a campaign directory it "finds" a
# crash (writes crash-<id> to -artifact_prefix and dies with a finding
# title). Replaying a file prints that title too; -merge=1 copies the corpus.
set -u
prefix="" total=1 merge=0
files=()
for a in "$@"; do
  case "$a" in
    -artifact_prefix=*) prefix="${a#*=}" ;;
    -max_total_time=*) total="${a#*=}" ;;
    -merge=1) merge=1 ;;
    -*) ;;
    *) files+=("$a") ;;
  esac
done
if [[ $merge == 1 ]]; then
  cp "${files[1]}"/* "${files[0]}"/ 2>/dev/null
  exit 0
fi
if [[ ${#files[@]} -ge 1 && -f "${files[0]}" ]]; then
  echo "==bpfdiff== FINDING: fake: boom"
  exit 1
fi
corpus="${files[0]}"
campaign="$corpus/../.."
echo "#2	INITED cov: 10 ft: 12 corp: 1/1b exec/s: 0 rss: 30Mb"
echo "seed $$" > "$corpus/input-$$"
if [[ ! -e "$campaign/fake-crashed" ]]; then
  touch "$campaign/fake-crashed"
  echo "boom" > "${prefix}crash-0123456789abcdef"
  echo "==bpfdiff== FINDING: fake: boom"
  exit 1
fi
execs=2
end=$((SECONDS + total))
while ((SECONDS < end)); do
  execs=$((execs + 1000))
  echo "#$execs	pulse  cov: 20 ft: 30 corp: 2/10b lim: 4 exec/s: 5000 rss: 31Mb"
  sleep 0.1
done
echo "#$execs	DONE   cov: 20 ft: 30 corp: 2/10b lim: 4 exec/s: 5000 rss: 31Mb"
