#pragma once
// The campaign's triage: every crash file a fuzzer left is given a
// signature, crashes with the same signature are one finding, and the first
// crash of each finding is minimized with a reproducer command.
//
//   differential targets (interp_vs_jit_*): the input is read in the
//     target's layout and run in process on every engine; the divergence's
//     fuzz::Signature is the key, and the minimized case becomes a .data
//     regression test (`bpfdiff minimize` does the same);
//   everything else (and a differential crash the engines agree on, e.g. a
//     sanitizer report): the target binary replays the file and the key is
//     the line it dies with -- "==bpfdiff== FINDING: <title>" or a
//     sanitizer's "SUMMARY: ..." -- or the kind of artifact (timeout, oom);
//     libFuzzer's -minimize_crash shrinks it.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/campaign/campaign_state.hpp"
#include "fuzz/findings/replay.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

struct TriageContext {
  std::string out_dir;
  std::string fuzz_bin_dir;  // where fuzz_<target> binaries are
  bool libfuzzer = true;     // the binaries take -minimize_crash (AFL++ ones do not)
  NamedEngines* engines = nullptr;
  std::size_t max_minimize_tests = 5'000;
};

// What a target's replay output says about a crash: the kind and title.
struct CrashTitle {
  std::string kind;  // "invariant", "sanitizer", "timeout", "oom", "crash"
  std::string title;
};
CrashTitle title_from_output(std::string_view output, int exit_code, std::string_view artifact_name);

// A file-safe key "<target>.<title>" for a non-divergence finding.
std::string generic_finding_key(const std::string& target, const std::string& title);

// Triage of one crash (state.crashes[index]); updates the state (the crash
// record, a new or counted finding) and writes OUT/findings/<key>/ for a new
// finding. Does not save the state.
Result<void> triage_crash(CampaignState& state, std::size_t index, const TriageContext& context);

}  // namespace bpfdiff::cli
