// `bpfdiff kernel accept`: the kernel-friendly generator against a kernel
// engine: acceptance rate, top rejection reasons with an example each, form
// coverage, agreement with our interpreter (oracle/cli/kernel_accept.hpp).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/case_source.hpp"
#include "fuzz/kernel_campaign/kernel_accept.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"

namespace bpfdiff::cli {
namespace {

struct KernelAcceptCommand {
  AcceptOptions accept;
  std::string isa = "v4";
  std::size_t top = 10;
  bool json = false;
};

int run_accept(KernelAcceptCommand& o) {
  o.accept.isa_version = o.isa == "v3" ? isa::IsaVersion::V3 : isa::IsaVersion::V4;
  auto report = measure_acceptance(o.accept, count_progress(o.accept.count));
  if (!report) {
    std::cerr << "error: " << report.error().message << "\n";
    return kExitLoadFailed;
  }
  if (o.json) {
    std::cout << accept_report_json(*report).dump(2) << "\n";
  } else {
    std::cout << format_accept_report(*report, o.top);
  }
  return report->findings.empty() ? kExitOk : kExitRunFailed;
}

}  // namespace

std::function<void(uint64_t)> count_progress(uint64_t count) {
  return [count, last = std::chrono::steady_clock::now()](uint64_t done) mutable {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(1) && done != count) return;
    last = now;
    std::fprintf(stderr, "\r%llu/%llu", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(count));
    if (done == count) std::fprintf(stderr, "\n");
  };
}

void add_kernel_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("kernel", "Measure the kernel oracle's generator against a kernel.");
  cmd->require_subcommand(1);
  auto o = std::make_shared<KernelAcceptCommand>();
  CLI::App* accept = cmd->add_subcommand(
      "accept",
      "Generate kernel-friendly programs, run each on a kernel engine and on our interpreter; print the "
      "verifier's acceptance rate, its top rejection reasons with an example program each, which forms the "
      "accepted programs hold, and agreement. Exit 1 on a finding (mismatch, verifier soundness, a program "
      "the kernel accepts and we reject), 2 when the engine cannot run here.");
  accept->add_option("--count", o->accept.count, "programs to generate")
      ->check(kAtLeastOne)
      ->capture_default_str();
  accept->add_option("--seed", o->accept.seed, "program i comes from seed S + i")->capture_default_str();
  accept->add_option("--isa", o->isa, "v3 for kernels before 6.6 (Debian's 6.1), v4 for 6.6 and later")
      ->check(CLI::IsMember({"v3", "v4"}))
      ->capture_default_str();
  accept->add_option("--engine", o->accept.engine, "the kernel engine (kernel-host, kernel-qemu, ...)")
      ->capture_default_str();
  accept->add_option("--max-instructions", o->accept.max_instructions, "slots per program")
      ->check(CLI::Range(16, 65'536))
      ->capture_default_str();
  accept->add_option(
      "--findings", o->accept.findings_dir,
      "write each finding's case there as a .data test with its maps, for `bpfdiff repro FILE`");
  accept
      ->add_option("--generator", o->accept.generator,
                   "kernel-friendly (accepted by construction) or verifier-stress (safety the verifier must "
                   "work out)")
      ->check(CLI::IsMember(fuzz::case_generator_names()))
      ->capture_default_str();
  accept
      ->add_option("--mutate-rate", o->accept.mutate_rate,
                   "share of programs that are mutants of programs the kernel accepted earlier in the run")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  accept->add_flag(
      "--check-states", o->accept.check_states,
      "also replay every accepted program against the verifier's level-2 log (the verifier-state "
      "oracle of `bpfdiff kernel check-states`); each violation is a finding");
  accept->add_option("--top", o->top, "rejection reasons to show")->capture_default_str();
  accept->add_flag("--json", o->json, "print one JSON object");
  accept->callback([o, &exit_code] { exit_code = run_accept(*o); });
  add_kernel_check_states_command(*cmd, exit_code);
}

}  // namespace bpfdiff::cli
