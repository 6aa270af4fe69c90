#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script: every fuzz target of the build
# (bpfdiff_fuzz_target() in fuzz/CMakeLists.txt) goes to $OUT as fuzz_<name>,
# with its seeds (corpus/fuzz/<name>) as fuzz_<name>_seed_corpus.zip and its
# dictionary (fuzz/dict/<name>.dict) as fuzz_<name>.dict.
#
# BPFDIFF_FUZZ=oss-fuzz compiles with the environment's $CFLAGS/$CXXFLAGS
# (sanitizers and coverage chosen by the infrastructure) and links the
# targets with $LIB_FUZZING_ENGINE, so the same script serves libFuzzer and
# AFL++ builds. Warnings are not errors here: the infrastructure's flags are
# not ours.
cd "$SRC/bpfdiff"
cmake -S . -B build/oss-fuzz -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBPFDIFF_FUZZ=oss-fuzz \
  -DBPFDIFF_TESTS=OFF -DBPFDIFF_BENCHMARKS=OFF -DBPFDIFF_WERROR=OFF
cmake --build build/oss-fuzz --target fuzz_binaries -j"$(nproc)"

for bin in build/oss-fuzz/fuzz/fuzz_*; do
  name=$(basename "$bin")
  [[ "$name" == *_replay ]] && continue
  target=${name#fuzz_}
  cp "$bin" "$OUT/$name"
  if [[ -d "corpus/fuzz/$target" ]]; then
    (cd "corpus/fuzz/$target" && zip -q -r "$OUT/${name}_seed_corpus.zip" .)
  fi
  if [[ -f "fuzz/dict/$target.dict" ]]; then
    cp "fuzz/dict/$target.dict" "$OUT/$name.dict"
  fi
done
