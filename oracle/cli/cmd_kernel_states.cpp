// `bpfdiff kernel check-states`: the verifier-state oracle over generated
// programs (fuzz/kernel_campaign/state_check_campaign.hpp); this file only reads options
// and prints.
#include <iostream>
#include <memory>
#include <string>

#include "fuzz/kernel_campaign/state_check_campaign.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

struct CheckStatesCommand {
  fuzz::StateCheckCampaignOptions options;
  std::string isa = "v4";
  bool minimal_prologue = false;
  bool json = false;
};

int run_check_states(CheckStatesCommand& o) {
  o.options.cases.isa_version = o.isa == "v3" ? isa::IsaVersion::V3 : isa::IsaVersion::V4;
  o.options.check.zero_registers = !o.minimal_prologue;
  auto report = fuzz::run_state_check(o.options, count_progress(o.options.count));
  if (!report) {
    std::cerr << "error: " << report.error().message << "\n";
    return kExitLoadFailed;
  }
  if (o.json) {
    std::cout << fuzz::state_check_report_json(*report).dump(2) << "\n";
  } else {
    std::cout << fuzz::format_state_check_report(*report);
    uint64_t shown = 0;
    for (const fuzz::StateCheckFinding& f : report->findings) {
      if (shown++ == 3) break;
      std::cout << "\nseed " << f.seed << ": " << f.violation.describe() << "\n"
                << text::disassemble(f.program, {.pc_prefix = true});
    }
  }
  return report->findings.empty() ? kExitOk : kExitRunFailed;
}

}  // namespace

void add_kernel_check_states_command(CLI::App& kernel, int& exit_code) {
  auto o = std::make_shared<CheckStatesCommand>();
  CLI::App* cmd = kernel.add_subcommand(
      "check-states",
      "The verifier-state oracle: load each generated program with a level-2 verifier log (behind the "
      "full-state recipe's prologue, nothing else changed), replay it in our interpreter, and report an "
      "instruction run that the verifier never visited, or a register or stack slot whose value lies outside "
      "every state the verifier logged there (compared up to the first pruning point of the run), or a fault "
      "of an accepted program. Exit 1 on a violation, 2 when bpf() cannot be used here.");
  cmd->add_option("--count", o->options.count, "programs to generate")
      ->check(kAtLeastOne)
      ->capture_default_str();
  cmd->add_option("--seed", o->options.seed, "program i comes from seed S + i")->capture_default_str();
  cmd->add_option("--generator", o->options.cases.generator, "kernel-friendly or verifier-stress")
      ->check(CLI::IsMember(fuzz::case_generator_names()))
      ->capture_default_str();
  cmd->add_option("--mutate-rate", o->options.cases.mutate_rate,
                  "share of programs that are mutants of programs the kernel accepted earlier in the run")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--isa", o->isa, "v3 for kernels before 6.6, v4 for 6.6 and later")
      ->check(CLI::IsMember({"v3", "v4"}))
      ->capture_default_str();
  cmd->add_option("--max-instructions", o->options.cases.max_instructions, "slots per program")
      ->check(CLI::Range(16, 65'536))
      ->capture_default_str();
  cmd->add_flag("--minimal-prologue", o->minimal_prologue,
                "set only r1 and r2 before the program (r0, r3..r9 left uninitialised for the verifier)");
  cmd->add_option("--findings", o->options.findings_dir,
                  "write each program with a violation there as check-states-SEED.data, a .data test with "
                  "its maps that `bpfdiff repro` replays (and, without maps, as the raw input "
                  "scripts/state-check-loader.c reads)");
  cmd->add_flag("--json", o->json, "print one JSON object");
  cmd->callback([o, &exit_code] { exit_code = run_check_states(*o); });
}

}  // namespace bpfdiff::cli
