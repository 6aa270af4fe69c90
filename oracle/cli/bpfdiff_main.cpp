// bpfdiff: the command-line front end of the VM.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"

int bpfdiff::cli::usage_error(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return kExitLoadFailed;
}

int main(int argc, char** argv) {
  using namespace bpfdiff::cli;
  CLI::App app{"bpfdiff: a hardened eBPF virtual machine (RFC 9669) and its tools.", "bpfdiff"};
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 success, 1 the program stopped with a run-time error (diff, repro, gate:\n"
      "the engines disagree), 2 bad input, usage, assembly or validation error, 3 a .data test\n"
      "ran but not as it expects.\n"
      "Run `bpfdiff SUBCOMMAND --help` for the options of each subcommand.");
  int exit_code = kExitOk;
  add_asm_command(app, exit_code);
  add_disasm_command(app, exit_code);
  add_run_command(app, exit_code);
  add_diff_command(app, exit_code);
  add_repro_command(app, exit_code);
  add_gate_command(app, exit_code);
  add_smt_command(app, exit_code);
  add_guest_command(app, exit_code);
  add_minimize_command(app, exit_code);
  add_fuzz_command(app, exit_code);
  add_kernel_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitLoadFailed;
  }
  return exit_code;
}
