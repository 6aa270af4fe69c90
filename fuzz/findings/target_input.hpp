#pragma once
// Replaying any fuzz target's inputs with `bpfdiff repro`, `diff` and
// `minimize`: the input layout each target reads (`--target NAME`), the
// engines its oracle compares, and what a campaign's finding directory
// says about both, so `bpfdiff repro OUT/findings/KEY` replays the input
// that was found the way the target ran it. Every finding names the command.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/findings/finding.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

// Every fuzz target (fuzz/targets/), for --help and errors.
std::vector<std::string> fuzz_target_names();

// The layout `target`'s input is read in; an error names the targets.
Result<FindingLayout> input_layout_of_target(std::string_view target);

// The engines `target` compares, reference first ("interp,kernel-host" for
// interp_vs_kernel, "interp,smt" for smt_vs_engines, the interpreter and
// every JIT option set for the interp_vs_jit targets and elf_gen, else
// "interp,jit").
std::vector<std::string> engines_of_target(std::string_view target);

// What to replay for FILE (and --target, when given): a file is read in the
// target's layout. A campaign finding's directory is replaced by its input:
// a kernel campaign's (finding.json: case.data with its maps, or input.raw
// in the raw layout when it has none; its engines and budget), a libFuzzer/AFL campaign's
// (OUT/findings/<target>.<title>/: its minimized input or its input, in the target's layout; a divergence's:
// its .data regression test).
struct ReplayTarget {
  std::string file;
  std::string layout;                // empty: detect as load_replay_input does
  std::string target;                // empty when not known
  std::vector<std::string> engines;  // empty: the command's default
  uint64_t budget = 0;               // 0: the layout's
};
Result<ReplayTarget> resolve_replay_target(const std::string& path, const std::string& target);

// A command's options after resolve_replay_target: `file` becomes the input
// to replay; `layout`, `engines` and `budget` take the target's or the
// finding's unless the user gave them (an empty layout, engines not given,
// a zero budget).
Result<void> apply_replay_target(const std::string& target, std::string& file, std::string& layout,
                                 std::vector<std::string>* engines, bool engines_given, uint64_t& budget);

// "bpfdiff repro FILE --target TARGET --engines a,b"
std::string target_repro_command(const std::string& file, std::string_view target);

}  // namespace bpfdiff::cli
