#pragma once
// The bpf_conformance plugin protocol:
//   bpfdiff-plugin [MEMORY] [OPTIONS...]   program as hex bytes on stdin
// MEMORY, when present, is one argument of hex bytes ("aa  bb  11  "). The
// runner may also pass an empty memory argument and all its options as one
// argument ("--engine interp"); both are accepted. Success prints r0 as
// "0x2a" and exits 0; any error prints one line (the message) and exits
// non-zero, because the runner compares that line with a test's `-- error`.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vm/util/result.hpp"

namespace bpfdiff::cli {

struct PluginArgs {
  std::optional<std::string> memory_hex;
  std::string engine = "interp";
  bool elf = false;
  bool debug = false;  // accepted; prints the decoded program to stderr
  bool help = false;
};

// `args` excludes argv[0].
Result<PluginArgs> parse_plugin_args(std::span<const std::string> args);

std::string plugin_usage();

struct PluginOutcome {
  int exit_code = 0;
  std::string out;  // for stdout
  std::string err;  // for stderr
};

// Runs one test: `program_text` is what arrived on stdin.
PluginOutcome run_plugin(const PluginArgs& args, std::string_view program_text);

}  // namespace bpfdiff::cli
