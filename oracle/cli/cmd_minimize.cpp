// `bpfdiff minimize FILE`: shrink a divergence input to the smallest program
// with the same signature and write it as a .data regression test.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/findings/finding.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/findings/target_input.hpp"
#include "fuzz/gate/gate_runs.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/cli/run_mode_flags.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/input.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

struct MinimizeCommandOptions {
  std::string input;
  std::string out = "corpus/regressions";
  std::string layout = "auto";
  std::string target;  // --target: FILE is this fuzz target's input (fuzz/findings/target_input.hpp)
  std::vector<std::string> engines;
  uint64_t budget = 0;  // 0: the layout's
  std::size_t max_tests = fuzz::MinimizeOptions{}.max_tests;
  RunModeFlags run_mode;
  bool gate_runs = false;  // --gate-runs: also a divergence on a later run of the gate's sequence
};

// The layouts to try for `path`: the one asked for, else a program file by
// its extension, else the fuzz layouts in turn (a crash file does not say
// which target wrote it).
std::vector<FindingLayout> layouts_to_try(const MinimizeCommandOptions& opts) {
  if (auto l = finding_layout_named(opts.layout)) return {*l};
  const std::string ext = lowercase_extension(opts.input);
  if (ext == ".data" || ext == ".asm" || ext == ".s" || ext == ".bin") return {FindingLayout::Program};
  return {FindingLayout::Raw, FindingLayout::Generated, FindingLayout::SingleInsn, FindingLayout::ElfGen};
}

int run_minimize(const MinimizeCommandOptions& opts) {
  auto engines = make_engines(opts.engines);
  if (!engines) {
    std::cerr << "error: " << engines.error().message << "\n";
    return kExitLoadFailed;
  }
  if (engines->engines.size() < 2) {
    std::cerr << "error: minimize needs at least two engines (--engines)\n";
    return kExitLoadFailed;
  }
  auto packet = opts.run_mode.packet();
  if (!packet) return usage_error(packet.error().message);
  std::optional<FindingCase> found;
  std::optional<fuzz::Signature> signature;
  std::string tried;
  std::optional<std::string> read_error;
  bool read_any = false;
  bool later_run = false;  // the divergence is on a later run of the gate's sequence
  for (const FindingLayout layout : layouts_to_try(opts)) {
    auto c = read_finding(opts.input, layout);
    if (!c) {
      if (!read_error) read_error = c.error().message;
      continue;
    }
    read_any = true;
    if (opts.budget != 0) c->budget = opts.budget;
    c->setup = opts.run_mode.given().applied_to(c->setup);
    if (*packet) c->memory = **packet;
    tried += std::string(tried.empty() ? "" : ", ") + to_string(layout);
    if (auto s = signature_of(*c, *engines)) {
      found = std::move(c).value();
      signature = std::move(s);
      break;
    }
    if (opts.gate_runs && all_in_process(*engines)) {
      if (auto s = gate_runs_signature(*c, *engines)) {
        found = std::move(c).value();
        signature = std::move(s);
        later_run = true;
        break;
      }
    }
  }
  if (!read_any) {
    std::cerr << "error: " << read_error.value_or(opts.input + ": cannot be read") << "\n";
    return kExitLoadFailed;
  }
  if (!found) {
    std::cout << opts.input << ": the engines agree (read as " << tried << "): nothing to minimize\n";
    return kExitRunFailed;
  }
  std::cout << opts.input << ": read as " << to_string(found->layout) << ", " << found->program.slots.size()
            << " slots, " << found->memory.size() << " bytes of memory, budget " << found->budget << "\n";
  std::cout << "signature: " << signature->title() << "\n";

  fuzz::MinimizeOptions options;
  options.max_tests = opts.max_tests;
  const MinimizedFinding m = later_run ? minimize_gate_runs_finding(*found, *signature, *engines, options)
                                       : minimize_finding(*found, *signature, *engines, options);
  std::cout << "minimized to " << m.minimized.program.slots.size() << " slots and "
            << m.minimized.memory.size() << " bytes of memory (" << m.stats.tests << " candidates tried, "
            << m.stats.accepted << " kept" << (m.stats.hit_test_limit ? ", stopped at --max-tests" : "")
            << ")\n\n";
  text::DisasmOptions disasm;
  disasm.pc_prefix = true;
  std::cout << text::disassemble(m.minimized.program.slots, disasm) << "\n";

  auto path = write_regression_test(m, opts.input, opts.out);
  if (!path) {
    std::cerr << "error: " << path.error().message << "\n";
    return kExitLoadFailed;
  }
  std::cout << "wrote " << *path << "\nreplay: bpfdiff repro " << *path << " --budget " << m.minimized.budget
            << " --engines " << m.signature.reference << "," << m.signature.engine
            << (m.gate_runs ? " --gate-runs" : "") << "\n";
  return kExitOk;
}

}  // namespace

void add_minimize_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<MinimizeCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "minimize", "Shrink a divergence input to the smallest program with the same signature.");
  cmd->footer(
      "FILE is a crash input of a differential fuzz target (interp_vs_jit_raw, _gen or _insn, or\n"
      "elf_gen: the run of its object it stops at; the layout is found by trying each, or given with\n"
      "--layout or --target) or a program file (.data, .asm, bytecode). Its signature -- the engines that "
      "disagree, the first differing field and the form\n"
      "of the instruction where they part ways (found by bisection on the budget) -- is kept while\n"
      "instructions are removed (delta debugging, jumps repaired), the memory is cut and zeroed and\n"
      "immediates, offsets and registers move toward 0. The result is written to --out as\n"
      "<signature>.data: assembly, memory, the reference engine's result and a \"# budget N\" line.\n"
      "The gate and the tests replay every .data of corpus/regressions on all engines.\n"
      "Run mode: the input's own (a .data test's `-- mode`, a generated input's), else memory;\n"
      "--mode and the other run-mode flags of `bpfdiff run` replace it (--packet the memory).\n"
      "--gate-runs: a gate finding on a later run (the first agrees) is kept as the same engines,\n"
      "field and run (signature form \"runN\"); its test replays with `repro --gate-runs`.\n"
      "Exit status: 0 minimized and written, 1 the engines agree on FILE, 2 bad usage or input.");
  cmd->add_option("FILE", opts->input, "the input to minimize")->required();
  cmd->add_option("--out", opts->out, "directory for the .data test")->capture_default_str();
  cmd->add_option("--layout", opts->layout,
                  "how to read FILE: auto, raw, generated, single-insn, elf-gen, program")
      ->check([] {
        auto names = finding_layout_names();
        names.insert(names.begin(), "auto");
        return CLI::IsMember(names);
      }())
      ->capture_default_str();
  cmd->add_option("--target", opts->target,
                  "FILE is this fuzz target's input (its layout, its engines unless --engines); FILE may "
                  "also be a campaign's finding directory, whose target is detected")
      ->check(CLI::IsMember(fuzz_target_names()));
  cmd->add_option("--engines", opts->engines,
                  "engines to compare, comma-separated; the first is the reference")
      ->delimiter(',');
  cmd->add_option("--budget", opts->budget, "instruction budget (default: the layout's)")->check(kAtLeastOne);
  cmd->add_option("--max-tests", opts->max_tests, "candidates to try at most")->capture_default_str();
  opts->run_mode.add_to(*cmd);
  cmd->add_flag("--gate-runs", opts->gate_runs,
                "when the first run agrees, look for a divergence on a later run of the gate's four runs "
                "of one prepared program (see `bpfdiff repro --gate-runs`) and keep that one");
  cmd->callback([opts, cmd, &exit_code] {
    std::string layout = opts->layout == "auto" ? "" : opts->layout;
    if (auto t = apply_replay_target(opts->target, opts->input, layout, &opts->engines,
                                     cmd->count("--engines") > 0, opts->budget);
        !t) {
      std::cerr << "error: " << t.error().message << "\n";
      exit_code = kExitLoadFailed;
      return;
    }
    if (!layout.empty()) opts->layout = layout;
    exit_code = run_minimize(*opts);
  });
}

}  // namespace bpfdiff::cli
