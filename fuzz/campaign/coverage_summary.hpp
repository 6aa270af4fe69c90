#pragma once
// Source coverage of a campaign's corpus: the replay binaries of a coverage
// build (`cmake --preset coverage`: clang with -fprofile-instr-generate
// -fcoverage-mapping) run every corpus input, llvm-profdata-14 merges the
// raw profiles and llvm-cov-14 summarises lines, functions and regions per
// source file.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/util/result.hpp"

namespace bpfdiff::cli {

struct CoverageCount {
  uint64_t count = 0;
  uint64_t covered = 0;
  double percent() const {
    return count == 0 ? 0 : 100.0 * static_cast<double>(covered) / static_cast<double>(count);
  }
};

struct FileCoverage {
  std::string file;  // relative to the source root when under it
  CoverageCount lines, functions, regions;
};

struct CoverageSummary {
  CoverageCount lines, functions, regions;  // over the files listed
  std::vector<FileCoverage> files;          // sorted by name; only files under the source root
};

// From `llvm-cov export -summary-only` JSON: keeps the files under
// `source_root` (the project's own code), names them relative to it and sums
// the totals over them.
Result<CoverageSummary> parse_llvm_cov_export(const nlohmann::json& j, const std::string& source_root);

nlohmann::ordered_json to_json(const CoverageSummary& summary);

struct CoverageRun {
  std::string coverage_bin_dir;  // build/coverage/fuzz: fuzz_<target>_replay
  std::string out_dir;           // OUT/coverage
  std::string source_root;
  std::vector<std::pair<std::string, std::string>> corpora;  // target, corpus directory
};

// Runs the replay binaries over the corpora and summarises. Fails with a
// message saying what to build when the coverage binaries are missing.
Result<CoverageSummary> measure_coverage(const CoverageRun& run);

}  // namespace bpfdiff::cli
