#pragma once
// What a running fuzzer reports about itself, read from its own output:
// libFuzzer's status lines ("#4096  pulse  cov: 812 ft: 1520 corp: 92/3402b
// exec/s: 2048 rss: 61Mb") and AFL++'s fuzzer_stats file ("execs_done : ...").
#include <cstdint>
#include <optional>
#include <string_view>

namespace bpfdiff::cli {

struct FuzzerStatus {
  uint64_t execs = 0;     // inputs run by this process so far
  uint64_t coverage = 0;  // libFuzzer "cov" (edges), AFL++ edges_found
  uint64_t features = 0;  // libFuzzer "ft"; 0 for AFL++
  uint64_t corpus = 0;    // inputs in the corpus
  uint64_t exec_per_sec = 0;
  uint64_t crashes = 0;  // AFL++ saved_crashes; libFuzzer stops at its first
};

// The last status line in `text` (a chunk of libFuzzer output), if any.
std::optional<FuzzerStatus> parse_libfuzzer_output(std::string_view text);

// An AFL++ fuzzer_stats file's contents.
std::optional<FuzzerStatus> parse_afl_stats(std::string_view text);

// The last row of an AFL++ plot_data file, columns found by the names in its
// "# relative_time, ..." header. afl-fuzz rewrites plot_data every few
// seconds but fuzzer_stats only about once a minute, so short campaigns need
// this one for their progress.
std::optional<FuzzerStatus> parse_afl_plot_data(std::string_view text);

}  // namespace bpfdiff::cli
