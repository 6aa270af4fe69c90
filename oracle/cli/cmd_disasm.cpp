// `bpfdiff disasm FILE [--pc] [--bytes]`: raw bytecode to assembly text.
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "oracle/cli/commands.hpp"
#include "oracle/cli/elf_listing.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/cli/jit_listing.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/input.hpp"
#include "vm/jit/options.hpp"
#include "vm/program/program.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

struct DisasmCommandOptions {
  std::string input;
  bool pc = false;
  bool bytes = false;
  bool x86 = false;
  std::string engine = "jit";
  ElfChoice elf;
};

int run_x86_listing(const DisasmCommandOptions& opts) {
  const std::optional<jit::JitOptions> options = jit::options_named(opts.engine);
  if (!options) {
    std::cerr << "error: --x86 needs a JIT engine (jit, jit+blind, jit-bmi2, jit+blind-bmi2), not '"
              << opts.engine << "'\n";
    return kExitLoadFailed;
  }
  auto input = load_program_file(opts.input, oracle::default_helpers(), opts.elf);
  if (!input) {
    std::cerr << "error: " << input.error().message << "\n";
    return kExitLoadFailed;
  }
  auto listing = jit_listing(input->program, oracle::default_helpers(), *options);
  if (!listing) {
    std::cerr << "error: " << listing.error().message << "\n";
    return kExitLoadFailed;
  }
  std::cout << *listing;
  return kExitOk;
}

int run_disasm(const DisasmCommandOptions& opts) {
  if (opts.x86) return run_x86_listing(opts);
  auto bytes = read_file(opts.input);
  if (!bytes) {
    std::cerr << "error: " << bytes.error().message << "\n";
    return kExitLoadFailed;
  }
  if (has_elf_magic(*bytes)) {
    auto object = elf::load_elf(*bytes);
    if (!object) {
      std::cerr << "error: " << opts.input << ": " << object.error().message << "\n";
      return kExitLoadFailed;
    }
    std::cout << elf_listing(*object, oracle::default_helpers(), ElfListingOptions{opts.bytes});
    return kExitOk;
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
      "so the output assembles back to the same bytes.\n"
      "An ELF object (clang -target bpf -c) lists its maps and programs, then every code section\n"
      "with relocations resolved: the map, global-data offset or function each lddw and call\n"
      "refers to (slot numbers are those of `run` errors and traces).");
  cmd->add_option("FILE", opts->input, "raw bytecode (8-byte slots) or an ELF object")->required();
  cmd->add_option("--section", opts->elf.section, "ELF with --x86: the program of this section");
  cmd->add_option("--program", opts->elf.program, "ELF with --x86: the program of this name");
  cmd->add_flag("--pc", opts->pc, "prefix each line with its slot index");
  cmd->add_flag("--bytes", opts->bytes, "append each instruction's bytes as a comment");
  cmd->add_flag("--x86", opts->x86,
                "show each instruction followed by the x86-64 code the JIT emits for it (FILE may also be "
                "assembly or a .data test)");
  cmd->add_option("--engine", opts->engine,
                  "JIT option set for --x86: jit, jit+blind, jit-bmi2, jit+blind-bmi2")
      ->capture_default_str();
  cmd->callback([opts, &exit_code] { exit_code = run_disasm(*opts); });
}

}  // namespace bpfdiff::cli
