// `bpfdiff run FILE ...`: load, validate and run a program, and report r0,
// the full state, a trace, timings or a .data test's verdict.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/cli/run_mode_flags.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/expectation.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/input.hpp"
#include "oracle/run/kernel_run.hpp"
#include "oracle/run/report.hpp"
#include "oracle/run/session.hpp"
#include "oracle/run/trace.hpp"

namespace bpfdiff::cli {
namespace {

struct RunCommandOptions {
  std::string input;
  std::string engine = "interp";
  std::string mem_hex;
  std::string mem_file;
  RunModeFlags run_mode;
  uint64_t seed = 0;
  bool maps = false;
  uint64_t budget = vm::ExecLimits{}.instruction_budget;
  uint64_t repeat = 1;
  bool trace = false;
  bool json = false;
  bool state = false;
  ElfChoice elf;
  // Whether the command line gave --budget: else a .data test's "# budget N" holds.
  bool budget_given = false;
};

// The run setup: a .data test's `-- mode` and "# max-call-depth N" where the
// command line left them unset.
RunSetup run_setup(const RunCommandOptions& opts, const ProgramInput& input) {
  RunSetup setup;
  if (input.data && input.data->run_mode) setup.mode = *input.data->run_mode;
  if (input.data && input.data->max_call_depth) setup.max_call_depth = *input.data->max_call_depth;
  return opts.run_mode.given().applied_to(setup);
}

// Prints a failure before anything ran, in the requested format.
int load_failure(const RunCommandOptions& opts, const std::string& message,
                 const std::optional<Verdict>& verdict = std::nullopt) {
  if (opts.json) {
    nlohmann::ordered_json j = load_error_json(opts.engine, message);
    if (verdict) j["expected"] = verdict_json(*verdict);
    std::cout << j.dump() << "\n";
  } else {
    std::cerr << "error: " << message << "\n";
    if (verdict) std::cout << format_verdict(*verdict) << "\n";
  }
  return kExitLoadFailed;
}

Result<std::vector<uint8_t>> input_memory(const RunCommandOptions& opts, const ProgramInput& input) {
  auto packet = opts.run_mode.packet();
  if (!packet) return packet.error();
  if (*packet) return std::move(**packet);
  if (!opts.mem_hex.empty()) {
    auto bytes = parse_hex_arg(opts.mem_hex);
    if (!bytes) return make_error("--mem: " + bytes.error().message);
    return bytes;
  }
  if (!opts.mem_file.empty()) return read_file(opts.mem_file);
  if (input.data) return input.data->memory;
  return std::vector<uint8_t>{};
}

// trace_printk messages as the kernel's trace pipe shows them: one line each.
void print_printk(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    std::cout << "trace_printk: " << line;
    if (line.empty() || line.back() != '\n') std::cout << "\n";
  }
}

int run_run(const RunCommandOptions& given) {
  auto engine = oracle::make_engine(given.engine);
  if (!engine) return load_failure(given, engine.error().message);
  auto input = load_program_file(given.input, oracle::default_helpers(), given.elf);
  if (!input) return load_failure(given, input.error().message);
  RunCommandOptions opts = given;
  if (input->data && input->data->budget && !opts.budget_given) opts.budget = *input->data->budget;
  const RunSetup setup = run_setup(opts, *input);
  auto memory = input_memory(opts, *input);
  if (!memory) return load_failure(opts, memory.error().message);

  nlohmann::ordered_json trace_json = nlohmann::ordered_json::array();
  TraceSink sink = [&](const TraceStep& step) {
    if (opts.json) {
      trace_json.push_back(trace_step_json(step));
    } else {
      std::cout << format_trace_step(step) << "\n";
    }
  };
  RunOptions run_opts;
  run_opts.engine = opts.engine;
  run_opts.mode = setup.mode.mode;
  if (run_opts.mode == vm::RunMode::MetaBuffer) run_opts.metadata.assign(setup.mode.mbuff_size, 0);
  run_opts.data_offset = setup.mode.data_offset;
  run_opts.data_end_offset = setup.mode.data_end_offset;
  run_opts.seed = opts.seed;
  run_opts.limits.instruction_budget = opts.budget;
  run_opts.limits.max_call_depth = setup.max_call_depth;
  run_opts.repeat = opts.repeat;
  run_opts.trace = opts.trace ? &sink : nullptr;

  auto report = is_kernel_engine(opts.engine)
                    ? run_kernel_program(**engine, input->program, *memory, run_opts)
                    : run_program(input->program, *memory, run_opts, oracle::default_helpers());
  if (!report) {
    std::optional<Verdict> verdict;
    if (input->data)
      verdict = check_expectation(*input->data, Observed{std::nullopt, report.error().message});
    return load_failure(opts, report.error().message, verdict);
  }

  const vm::RunResult& result = report->result;
  std::optional<Verdict> verdict;
  if (input->data) {
    verdict =
        check_expectation(*input->data, result.ok() ? Observed{result.r0(), ""}
                                                    : Observed{std::nullopt, vm::describe(result.error)});
  }

  if (opts.json) {
    nlohmann::ordered_json j = report_json(*report);
    if (opts.trace) j["trace"] = std::move(trace_json);
    if (opts.maps) j["maps"] = maps_json(report->maps);
    if (verdict) j["expected"] = verdict_json(*verdict);
    // printk lines are what the program wrote, often not UTF-8 (a `%s` of
    // arbitrary bytes): replaced by U+FFFD rather than aborting the dump.
    std::cout << j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  } else {
    print_printk(report->printk);
    if (opts.state) {
      std::cout << format_state(*report);
    } else if (result.ok()) {
      std::cout << hex_u64(result.r0()) << "\n";
    }
    if (opts.maps) std::cout << format_maps(report->maps);
    if (!result.ok()) std::cerr << "error: " << vm::describe(result.error) << "\n";
    if (verdict) std::cout << format_verdict(*verdict) << "\n";
    if (report->runs > 1) {
      std::cerr << report->runs << " runs on " << report->engine << ": " << report->ns_per_run()
                << " ns/run (load " << report->load_ns << " ns, compile " << report->compile_ns << " ns)\n";
    }
  }
  if (!result.ok()) return kExitRunFailed;
  if (verdict && !verdict->match) return kExitMismatch;
  return kExitOk;
}

}  // namespace

// CLI::PositiveNumber reports its range as a 300-digit double; this says it plainly.
const CLI::Validator kAtLeastOne(
    [](std::string& value) -> std::string {
      const auto first = value.find_first_not_of("0");
      return value.empty() || first == std::string::npos ? "must be at least 1" : "";
    },
    "N>=1", "at least one");

void add_run_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<RunCommandOptions>();
  CLI::App* cmd =
      app.add_subcommand("run", "Validate and run a program; print r0, its state, a trace or timings.");
  cmd->footer(
      "FILE is assembly text (.asm, .s, or any printable file), raw bytecode (.bin, .o, or\n"
      "binary content) or a bpf_conformance test (.data): its program and memory are used\n"
      "(--mem and --mem-file override the memory), its `-- mode`, `-- map-def` sections and\n"
      "\"# budget N\" comment set the run mode, maps and budget (unless --mode, --mbuff-* or\n"
      "--budget say otherwise) and the outcome is checked against the test's `-- result` or\n"
      "`-- error`. An ELF object (clang -target bpf -c) runs one of its\n"
      "programs, chosen with --section or --program when it has several; its maps and global\n"
      "data start from their initial contents.\n"
      "In memory mode r1 points to a writable copy of the input memory (0 when empty) and\n"
      "r2 holds its length; r10 is the top of a 512-byte stack frame.\n"
      "In packet mode r1 points to a read-only struct xdp_md {u32 data, data_end, data_meta,\n"
      "ingress_ifindex, rx_queue_index, egress_ifindex} whose data/data_end bound the packet\n"
      "(--packet, --packet-file, else the memory), mapped at 0x1000000.\n"
      "In mbuff mode r1 points to a zeroed metadata buffer of --mbuff-size bytes into which the\n"
      "VM writes the packet's data and data_end addresses (8 bytes each, at the two offsets);\n"
      "r2 holds the packet length.\n"
      "Helpers: 1 map_lookup_elem, 2 map_update_elem, 3 map_delete_elem, 5 ktime_get_ns,\n"
      "6 trace_printk (its output is printed as `trace_printk: ...` lines), 7 get_prandom_u32\n"
      "(ktime and prandom are fixed by --seed), 12 tail_call.\n\n"
      "Kernel engines (kernel-host, kernel-qemu, kernel-qemu-interp; memory and none modes) load\n"
      "the program into a real kernel on every run: a verifier rejection is a load failure that\n"
      "prints the verdict and the verifier log; --repeat times whole load + run round trips.\n\n"
      "Exit status: 0 success, 1 run-time error (the message names pc, kind, address and size),\n"
      "2 bad input, assembly or validation error or unknown engine, 3 a .data test ran cleanly\n"
      "but its result differs from the expected one.\n"
      "JSON (--json): {\"r0\", \"regs\", \"instructions\", \"error\", \"memory\", \"load_ns\",\n"
      "\"compile_ns\", \"ns_per_run\", \"engine\", \"runs\", \"printk\"} plus \"trace\", \"maps\",\n"
      "\"metadata\" and \"expected\" when relevant.");
  cmd->add_option("FILE", opts->input, "program: assembly, raw bytecode, a .data test or an ELF object")
      ->required();
  cmd->add_option("--section", opts->elf.section, "ELF: run the program of this section (e.g. xdp)");
  cmd->add_option("--program", opts->elf.program, "ELF: run the program (or .text function) of this name");
  std::string engines;
  for (const std::string& name : oracle::all_engine_names())
    engines += (engines.empty() ? "" : ", ") + name;
  cmd->add_option("--engine", opts->engine, "engine to run with: " + engines)->capture_default_str();
  auto* mem = cmd->add_option("--mem", opts->mem_hex, "input memory as hex: \"aa bb 0c\" or \"aabb0c\"");
  auto* mem_file = cmd->add_option("--mem-file", opts->mem_file, "input memory: the raw bytes of this file");
  mem->excludes(mem_file);
  mem_file->excludes(mem);
  opts->run_mode.add_to(*cmd);
  cmd->add_option("--seed", opts->seed, "seed of bpf_ktime_get_ns and bpf_get_prandom_u32")
      ->capture_default_str();
  cmd->add_flag("--maps", opts->maps, "print every map's contents after the run");
  auto* budget = cmd->add_option("--budget", opts->budget, "instructions executed before the run stops")
                     ->check(kAtLeastOne)
                     ->capture_default_str();
  cmd->add_option("--repeat", opts->repeat,
                  "run N times, each on a fresh copy of the same memory; ns_per_run times only the runs")
      ->check(kAtLeastOne)
      ->capture_default_str();
  cmd->add_flag("--trace", opts->trace,
                "print each executed instruction: pc, disassembly, registers it changed "
                "(an extra, untimed run)");
  cmd->add_flag("--state", opts->state, "print r0..r10, the instruction count and the final memory");
  cmd->add_flag("--json", opts->json, "print one JSON object instead of text");
  cmd->callback([=, &exit_code] {
    opts->budget_given = budget->count() > 0;
    exit_code = run_run(*opts);
  });
}

}  // namespace bpfdiff::cli
