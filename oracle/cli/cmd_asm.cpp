// `bpfdiff asm FILE [-o OUT]`: assembly text to raw bytecode.
#include <iostream>
#include <memory>
#include <string>

#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/input.hpp"
#include "vm/isa/raw.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::cli {
namespace {

struct AsmOptions {
  std::string input;
  std::string output;
};

// A .data test assembles to its program; anything else is taken as text.
Result<vm::Program> assemble_input(const std::string& path, std::span<const uint8_t> bytes) {
  const std::string_view source(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (detect_input_kind(path, bytes) != InputKind::DataTest) {
    return text::assemble(source, text::AssembleOptions{&oracle::default_helpers()});
  }
  auto test = text::parse_data_test(source);
  if (!test) return test.error();
  return program_from_data_test(*test, oracle::default_helpers());
}

int run_asm(const AsmOptions& opts) {
  auto bytes = read_file(opts.input);
  if (!bytes) {
    std::cerr << "error: " << bytes.error().message << "\n";
    return kExitLoadFailed;
  }
  auto program = assemble_input(opts.input, *bytes);
  if (!program) {
    std::cerr << "error: " << opts.input << ": " << program.error().message << "\n";
    return kExitLoadFailed;
  }
  const std::vector<uint8_t> code = isa::encode_slots(program->slots);
  if (!opts.output.empty()) {
    if (auto written = write_file(opts.output, code); !written) {
      std::cerr << "error: " << written.error().message << "\n";
      return kExitLoadFailed;
    }
    return kExitOk;
  }
  for (std::size_t i = 0; i < code.size(); i += isa::kSlotBytes) {
    std::string line = hex_spaced(std::span(code).subspan(i, isa::kSlotBytes));
    line.pop_back();
    std::cout << line << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_asm_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<AsmOptions>();
  CLI::App* cmd = app.add_subcommand("asm", "Assemble text into raw little-endian bytecode.");
  cmd->footer(
      "Each slot is 8 bytes, little-endian; lddw takes two.\n"
      "Without -o, prints the bytes in hex, one slot per line, as a .data file's `-- raw` takes them.\n"
      "A .data test file assembles to its program.");
  cmd->add_option("FILE", opts->input, "assembly source (uBPF / bpf_conformance syntax)")->required();
  cmd->add_option("-o,--output", opts->output, "write the bytecode to this file instead of a hex dump");
  cmd->callback([opts, &exit_code] { exit_code = run_asm(*opts); });
}

}  // namespace bpfdiff::cli
