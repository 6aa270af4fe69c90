#pragma once
// The subcommands of `bpfdiff`. Each registers itself on the top-level app
// and, when it runs, stores its exit status in `exit_code`.
#include <cstdint>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace bpfdiff::cli {

void add_asm_command(CLI::App& app, int& exit_code);
void add_disasm_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_diff_command(CLI::App& app, int& exit_code);
void add_repro_command(CLI::App& app, int& exit_code);
void add_gate_command(CLI::App& app, int& exit_code);
void add_smt_command(CLI::App& app, int& exit_code);
void add_guest_command(CLI::App& app, int& exit_code);
void add_minimize_command(CLI::App& app, int& exit_code);
void add_fuzz_command(CLI::App& app, int& exit_code);
void add_kernel_command(CLI::App& app, int& exit_code);
// `bpfdiff kernel check-states`, registered on the `kernel` subcommand.
void add_kernel_check_states_command(CLI::App& kernel, int& exit_code);

// Prints "error: MESSAGE" on stderr and returns kExitLoadFailed: what a
// command does with bad usage or an input it cannot load.
int usage_error(const std::string& message);

// A batch's progress: "\rDONE/COUNT" on stderr at most once a second and
// at the end, so a long batch shows it is alive.
std::function<void(uint64_t done)> count_progress(uint64_t count);

// Numeric options such as --budget: "must be at least 1".
extern const CLI::Validator kAtLeastOne;

}  // namespace bpfdiff::cli
