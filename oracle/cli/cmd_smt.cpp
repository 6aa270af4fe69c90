// `bpfdiff smt check`: prove every modelled form (ALU, byte order, jumps)
// against the Z3 model, one column per registered check, and `bpfdiff smt
// eval`: run a loop-free program on the model.
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/gate/gate.hpp"
#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/input.hpp"
#include "oracle/smt/check_matrix.hpp"
#include "oracle/smt/interp_check.hpp"
#include "oracle/smt/jit_check.hpp"
#include "oracle/smt/matrix_report.hpp"
#include "vm/jit/planted.hpp"

namespace bpfdiff::cli {
namespace {

namespace smt = oracle::smt;

// Every check column. A library that proves an implementation against the
// model adds its checks here, one line each.
smt::CheckRegistry make_check_registry(bool all_jit_registers) {
  smt::CheckRegistry registry;
  smt::add_interp_checks(registry);
  smt::add_jit_checks(registry,
                      all_jit_registers ? smt::JitAssignments::All : smt::JitAssignments::Representative);
  return registry;
}

struct CheckCommandOptions {
  std::string forms;
  std::string checks;
  std::string out;
  bool json = false;
  bool all_jit_registers = false;
  bool memory = false;
  unsigned jobs = 0;  // 0: one per hardware thread
};

// Writes through a temporary and a rename, so a reader never sees half a test.
Result<std::string> write_counterexample(const std::string& dir, const std::string& stem,
                                         const std::string& data) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(dir + ": " + ec.message());
  const std::string path = dir + "/" + stem + ".data";
  const std::string tmp = path + ".tmp";
  auto written = write_file(tmp, std::span(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  if (!written) return written.error();
  std::filesystem::rename(tmp, path, ec);
  if (ec) return make_error(path + ": " + ec.message());
  return path;
}

int run_check_command(const CheckCommandOptions& opts) {
  // A planted build (scripts/planted-proofs.sh) must never pass for a real one.
  if (!jit::planted_bug().empty())
    std::cerr << "smt check: this build's JIT has a bug planted on purpose: " << jit::planted_bug() << "\n";
  smt::CheckRegistry registry = make_check_registry(opts.all_jit_registers);
  auto forms = smt::select_forms(opts.forms, opts.memory);
  if (!forms) {
    std::cerr << "error: " << forms.error().message << "\n";
    return kExitLoadFailed;
  }
  auto checks = smt::select_checks(registry, opts.checks);
  if (!checks) {
    std::cerr << "error: " << checks.error().message << "\n";
    return kExitLoadFailed;
  }

  // The table streams row by row, which is the progress report; with --json
  // progress goes to stderr at most once a second.
  smt::MatrixTable table(registry, *forms, *checks);
  if (!opts.json) std::cout << table.header() << "\n";
  ProgressThrottle throttle;
  std::size_t forms_done = 0;
  isa::Form row_form = forms->front();
  auto on_cell = [&](const smt::MatrixCell& cell) {
    if (!opts.json) {
      if (std::string row = table.add(cell); !row.empty()) std::cout << row << "\n" << std::flush;
    } else if (cell.form != row_form) {
      row_form = cell.form;
      ++forms_done;
      if (throttle.ready()) std::cerr << "smt check: " << forms_done << "/" << forms->size() << " forms\n";
    }
  };
  const smt::MatrixReport report = smt::run_matrix(registry, *forms, *checks, on_cell, opts.jobs);
  if (!opts.json) {
    if (std::string row = table.finish(); !row.empty()) std::cout << row << "\n" << std::flush;
  }

  // Counterexamples: a .data test each, on disk (--out) or printed.
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  std::string failures;
  for (const smt::MatrixCell& c : report.cells) {
    const std::string form_name(isa::info(c.form).name);
    const std::string check_name = registry.checks()[c.check]->name();
    nlohmann::ordered_json j = smt::cell_json(c, registry);
    if (c.outcome.verdict != smt::Verdict::Proved) {
      failures += std::string(smt::to_string(c.outcome.verdict)) + ": " + form_name + " (" + check_name +
                  "): " + c.outcome.detail + "\n";
    }
    if (c.outcome.verdict == smt::Verdict::Counterexample) {
      if (c.outcome.data_test.empty()) {
        failures += "  (no .data test for this row: the detail above is the counterexample)\n";
      } else if (!opts.out.empty()) {
        auto path = write_counterexample(opts.out, smt::counterexample_stem(form_name, check_name),
                                         c.outcome.data_test);
        if (path) {
          j["data_file"] = *path;
          failures += "  written to " + *path + " (reproduce: bpfdiff run " + *path + " --engine E)\n";
        } else {
          failures += "  cannot write it: " + path.error().message + "\n";
        }
      } else {
        failures += c.outcome.data_test;
      }
    }
    results.push_back(std::move(j));
  }

  if (opts.json) {
    std::cout << smt::matrix_json(report, registry, forms->size(), *checks, std::move(results)).dump()
              << "\n";
    std::cerr << failures;
  } else {
    std::cout << failures << smt::matrix_summary(report, registry, forms->size(), checks->size()) << "\n";
  }
  return report.all_proved() ? kExitOk : kExitRunFailed;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

int run_eval_command(const std::string& path) {
  auto input = load_program_file(path, oracle::default_helpers());
  if (!input) {
    std::cerr << "error: " << input.error().message << "\n";
    return kExitLoadFailed;
  }
  auto engine = oracle::make_engine("smt");
  if (!engine) {
    std::cerr << "error: " << engine.error().message << "\n";
    return kExitLoadFailed;
  }
  oracle::EngineInput in;
  if (input->data) in.memory = input->data->memory;
  const oracle::Outcome o = (*engine)->run(input->program, in);
  if (!o.loaded) {
    std::cerr << "error: " << o.load_error << "\n";
    return kExitLoadFailed;
  }
  for (std::size_t r = 0; r < o.regs.size(); ++r)
    std::cout << "r" << r << " = " << hex(o.regs[r]) << "\n";
  std::cout << "instructions = " << o.instructions << "\n";
  if (!o.ok()) {
    std::cerr << "error: " << vm::describe(o.error) << "\n";
    return kExitRunFailed;
  }
  if (input->data && input->data->result && *input->data->result != o.regs[0]) {
    std::cerr << "mismatch: the test expects r0 = " << hex(*input->data->result) << "\n";
    return kExitMismatch;
  }
  return kExitOk;
}

}  // namespace

void add_smt_command(CLI::App& app, int& exit_code) {
  CLI::App* smt_cmd = app.add_subcommand("smt", "The Z3 model of the ALU, byte-order and jump instructions.");
  smt_cmd->require_subcommand(1);

  auto opts = std::make_shared<CheckCommandOptions>();
  CLI::App* check = smt_cmd->add_subcommand(
      "check", "Prove every modelled form equal to the model, one column per implementation check.");
  check->footer(
      "Rows are the modelled forms (every ALU, ALU32, byte-order, JMP and JMP32 form of the\n"
      "instruction table); columns are the registered checks. `interp` lifts the interpreter's\n"
      "own semantic functions (vm/runtime/semantics_impl.hpp) into Z3 and proves them equal to\n"
      "the model for all register values and immediates, C++-definedness included. `jit R,S`\n"
      "(one per JIT option set and register assignment dst=R, src=S) compiles the form with the\n"
      "JIT and proves the x86-64 it emitted equal to the model for all register values, every\n"
      "immediate class (0, 1, -1, imm8, imm32, INT_MIN), with the other registers preserved and\n"
      "no #DE (oracle/smt/jit_proof.hpp); --all-registers adds every (dst, src). With --memory the\n"
      "loads, stores, atomics and legacy packet loads are rows too: their `jit R,S` cells prove the\n"
      "JIT's code, checks and fault stubs included, against the interpreter's memory semantics for\n"
      "every region table, register value and host memory, at each offset class\n"
      "(oracle/smt/mem_proof.hpp); so are call_local and exit, proved in the first `jit r4,r3`\n"
      "column of each option set: the call's frame, depth limit and native return address, the\n"
      "exit's unwinding, and the budget charges of the caller's and callee's blocks, against the\n"
      "interpreter's rules for every context, frame array and budget, depth limits 1, 2 and 8\n"
      "(oracle/smt/call_proof.hpp), the exit row with the prologue and epilogue (the start\n"
      "registers, the callee-saved registers, the run's result, oracle/smt/entry_exit_proof.hpp);\n"
      "call_helper in the same column: the glue around a helper\n"
      "call (arguments, calling pc, stack alignment, the failed-helper, tail-call and return paths)\n"
      "for any helper behaviour; and callx: its target checks (BadCallTarget), the local call it\n"
      "makes and the helper call by id (oracle/smt/call_out_proof.hpp). A load, store or atomic\n"
      "counterexample is solved again on a region table a real run has and written as a .data test\n"
      "whose expected outcome is the interpreter's (oracle/smt/mem_counterexample.hpp); a call_local\n"
      "or exit one as a chain of calls reaching its depth, or its program with its budget\n"
      "(oracle/smt/control_counterexample.hpp); a callx one as a program calling the value, through\n"
      "a chain of local calls to its depth (oracle/smt/callx_counterexample.hpp); a legacy packet load\n"
      "one in memory mode, the input as the packet, at depth 0 (deeper, a packet end's unwinding\n"
      "changes only what a run's outcome does not show); a call_helper one with the helper doing what\n"
      "it does in a run without maps (oracle/smt/helper_counterexample.hpp). A counterexample no such\n"
      "run shows (registers after a failed helper, a successful tail call, callx of a helper id) is\n"
      "described only, with the reason.\n"
      "Cells run on --jobs threads; the summary gives wall time and the slowest cells. A cell reads\n"
      "`ok <time>`, COUNTEREXAMPLE, UNKNOWN (solver gave up) or ERROR; `-` where the check does\n"
      "not apply. Each counterexample is printed (or, with --out, written) as a .data test that\n"
      "runs the instruction on the operands found and expects the model's value:\n"
      "`bpfdiff run FILE.data --engine E` reproduces it.\n"
      "Exit status: 0 every proof holds, 1 a counterexample, unknown or error, 2 bad usage.\n"
      "JSON (--json): {\"result\": \"proved\"|\"failed\", \"checks\", \"forms\", \"proofs\", \"proved\",\n"
      "\"counterexamples\", \"unknown\", \"errors\", \"seconds\" (summed), \"wall_seconds\", \"jobs\",\n"
      "\"slowest\": {\"form\", \"check\",\n"
      "\"seconds\"}, \"slowest_cells\": [10 of those], \"results\": [{\"form\", \"check\", \"verdict\",\n"
      "\"seconds\", \"detail\", \"data_test\",\n"
      "\"data_file\"}]}.");
  check->add_option("--forms", opts->forms, "regex over form names, e.g. '^sdiv' or '32_'");
  check->add_option("--checks", opts->checks, "regex over check (column) names, e.g. '^interp$'");
  check->add_option("--out", opts->out, "directory to write counterexamples into as .data tests");
  check->add_flag("--json", opts->json, "print one JSON object on stdout");
  check->add_flag("--all-registers", opts->all_jit_registers,
                  "JIT columns for every (dst, src) register pair, not only the representative ones");
  check->add_flag(
      "--memory", opts->memory,
      "rows for the loads, stores, atomics, packet loads, call_local, exit, call_helper and callx too (JIT "
      "columns "
      "only; see below)");
  check->add_option("-j,--jobs", opts->jobs, "threads proving cells in parallel (default 0: one per CPU)");
  check->callback([opts, &exit_code] { exit_code = run_check_command(*opts); });

  auto path = std::make_shared<std::string>();
  CLI::App* eval = smt_cmd->add_subcommand(
      "eval", "Run a loop-free ALU/JMP program on the model (same as `run --engine smt`).");
  eval->footer(
      "FILE: assembly, bytecode or a .data test (its memory is used, its expected r0 checked).\n"
      "Prints r0..r10 and the instructions executed.\n"
      "Exit status: 0 ran, 1 run-time error, 2 load error (also: a form the model does not\n"
      "cover, a backward jump), 3 a .data test's r0 differs from the model's.");
  eval->add_option("FILE", *path, "program file")->required();
  eval->callback([path, &exit_code] { exit_code = run_eval_command(*path); });
}

}  // namespace bpfdiff::cli
