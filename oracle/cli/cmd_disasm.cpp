// `bpfdiff disasm FILE [--pc] [--bytes]`: raw bytecode to assembly text.
#include <iostream>
#include <memory>
#include <string>

#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/cli/input.hpp"
#include "vm/program/program.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

struct DisasmCommandOptions {
  std::string input;
  bool pc = false;
  bool bytes = false;
};

int run_disasm(const DisasmCommandOptions& opts) {
  auto bytes = read_file(opts.input);
  if (!bytes) {
    std::cerr << "error: " << bytes.error().message << "\n";
    return kExitLoadFailed;
  }
  if (has_elf_magic(*bytes)) {
    std::cerr << "error: " << opts.input << ": " << kElfUnsupported << "\n";
    return kExitLoadFailed;
  }
  auto program = vm::program_from_bytes(*bytes);
  if (!program) {
    std::cerr << "error: " << opts.input << ": " << program.error().message << "\n";
    return kExitLoadFailed;
  }
  std::cout << text::disassemble(program->slots, text::DisasmOptions{opts.pc, opts.bytes});
  return kExitOk;
}

}  // namespace

void add_disasm_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<DisasmCommandOptions>();
  CLI::App* cmd = app.add_subcommand("disasm", "Disassemble raw bytecode into assembly text.");
  cmd->footer(
      "FILE holds raw little-endian slots (.bin, or a raw .o), 8 bytes each.\n"
      "Every slot prints, legal or not: slots that are no valid instruction print as `.slot`,\n"
      "so the output assembles back to the same bytes. ELF objects are not supported yet.");
  cmd->add_option("FILE", opts->input, "raw bytecode, a whole number of 8-byte slots")->required();
  cmd->add_flag("--pc", opts->pc, "prefix each line with its slot index");
  cmd->add_flag("--bytes", opts->bytes, "append each instruction's bytes as a comment");
  cmd->callback([opts, &exit_code] { exit_code = run_disasm(*opts); });
}

}  // namespace bpfdiff::cli
