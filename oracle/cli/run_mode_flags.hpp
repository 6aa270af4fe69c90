#pragma once
// The run-mode flags `bpfdiff run`, `diff`, `repro` and `minimize` share:
// --mode, --mbuff-size, --mbuff-data-offset, --mbuff-data-end-offset,
// --max-call-depth, --packet and --packet-file. Registered and read in one
// place so the four commands spell and check them the same way; each flag
// given replaces the input's own setting (a .data test's `-- mode`, a
// generated input's decisions), the others leave it as it is.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fuzz/findings/replay.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

class RunModeFlags {
 public:
  // Adds the options to `cmd`; the object must outlive the parse (keep it in
  // the command's shared options).
  void add_to(CLI::App& cmd);

  // The settings the command line gave, after the parse.
  RunSetupOverride given() const;

  // The packet of --packet (hex) or --packet-file, when either is given.
  Result<std::optional<std::vector<uint8_t>>> packet() const;

 private:
  std::string mode_ = "memory";
  uint32_t mbuff_size_ = 16;
  uint32_t data_offset_ = 0;
  uint32_t data_end_offset_ = 8;
  uint32_t max_call_depth_ = vm::ExecLimits{}.max_call_depth;
  std::string packet_hex_;
  std::string packet_file_;
  CLI::Option* mode_opt_ = nullptr;
  CLI::Option* mbuff_size_opt_ = nullptr;
  CLI::Option* data_offset_opt_ = nullptr;
  CLI::Option* data_end_offset_opt_ = nullptr;
  CLI::Option* max_call_depth_opt_ = nullptr;
};

// The memory of a run: --packet/--packet-file, else --mem (hex)/--mem-file,
// when any is given (the input's own otherwise).
Result<std::optional<std::vector<uint8_t>>> run_memory_override(const RunModeFlags& flags,
                                                                const std::string& mem_hex,
                                                                const std::string& mem_file);

}  // namespace bpfdiff::cli
