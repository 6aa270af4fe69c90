#include "fuzz/findings/finding.hpp"

#include <filesystem>

#include <sys/utsname.h>

#include "fuzz/byte_source.hpp"
#include "fuzz/differential.hpp"
#include "fuzz/elf_gen_case.hpp"
#include "fuzz/findings/atomic_file.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "fuzz/kernel_mix.hpp"
#include "fuzz/limits.hpp"
#include "fuzz/loop_free.hpp"
#include "fuzz/raw_input.hpp"
#include "fuzz/single_insn.hpp"
#include "oracle/run/input.hpp"
#include "vm/isa/raw.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/data_file.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;

oracle::EngineInput engine_input(const FindingCase& c) {
  return cli::engine_input(c.memory, c.budget, c.setup);
}

FindingCase from_generated(fuzz::GeneratedCase&& g, FindingLayout layout) {
  FindingCase c;
  c.program = std::move(g.program);
  c.memory = std::move(g.memory);
  c.budget = fuzz::kGeneratedInstructionBudget;
  c.layout = layout;
  return c;
}

constexpr FindingLayout kLayouts[] = {
    FindingLayout::Raw,       FindingLayout::Generated, FindingLayout::SingleInsn,
    FindingLayout::Program,   FindingLayout::Kernel,    FindingLayout::LoopFree,
    FindingLayout::JitDecode, FindingLayout::Asm,       FindingLayout::ElfGen};

Result<FindingCase> from_raw(std::span<const uint8_t> bytes, const std::string& path, FindingLayout layout) {
  const fuzz::RawInput raw = fuzz::split_raw_input(bytes);
  auto program = vm::program_from_bytes(raw.program);
  if (!program) return make_error(path + ": " + program.error().message);
  FindingCase c;
  c.program = std::move(program).value();
  c.memory.assign(raw.memory.begin(), raw.memory.end());
  c.budget = fuzz::kRawInputInstructionBudget;
  c.layout = layout;
  return c;
}

// The ISA version interp_vs_kernel generates for: the running kernel's.
isa::IsaVersion this_kernels_isa_version() {
  utsname u{};
  return fuzz::isa_version_for_kernel(uname(&u) == 0 ? u.release : "");
}

// "program 2 of 3 (prog_1) in packet mode, its own"
std::string describe_run(const fuzz::ElfGenRun& run, std::size_t programs) {
  return "program " + std::to_string(run.index + 1) + " of " + std::to_string(programs) + " (" + run.entry +
         ") in " + text::run_mode_name(run.input.mode) + " mode" + (run.own_mode ? ", its own" : "");
}

// As elf_gen reads its input; the run it stops at (see read_finding).
Result<FindingCase> from_elf_gen(std::span<const uint8_t> bytes, const std::string& path) {
  fuzz::ByteSource src(bytes);
  auto g = fuzz::generate_elf_gen_case(src);
  if (!g) return make_error(path + ": no elf_gen object (the target skips this input): " + g.error().message);
  auto loaded = fuzz::load_generated_object(g->object);
  if (!loaded) return make_error(path + ": " + loaded.error().message);
  auto runs = fuzz::elf_gen_runs(*g, *loaded);
  if (!runs) return make_error(path + ": " + runs.error().message);
  std::size_t chosen = 0;
  for (std::size_t i = 0; i < runs->size(); ++i) {
    if (fuzz::find_divergence((*runs)[i].program, (*runs)[i].input)) {
      chosen = i;
      break;
    }
  }
  fuzz::ElfGenRun& run = (*runs)[chosen];
  FindingCase c;
  c.part = describe_run(run, g->cases.size());
  c.program = std::move(run.program);
  c.memory = std::move(run.input.memory);
  c.budget = run.input.limits.instruction_budget;
  c.setup = run_setup_of(run.input);
  c.layout = FindingLayout::ElfGen;
  c.elf_object = std::move(g->object.bytes);
  c.elf_program = run.entry;
  return c;
}

}  // namespace

std::string call_depth_comment(const RunSetup& setup) {
  if (setup.max_call_depth == vm::ExecLimits{}.max_call_depth) return "";
  return "# max-call-depth " + std::to_string(setup.max_call_depth) + "\n";
}

const char* to_string(FindingLayout layout) {
  switch (layout) {
    case FindingLayout::Raw:
      return "raw";
    case FindingLayout::Generated:
      return "generated";
    case FindingLayout::SingleInsn:
      return "single-insn";
    case FindingLayout::Program:
      return "program";
    case FindingLayout::Kernel:
      return "kernel";
    case FindingLayout::LoopFree:
      return "loop-free";
    case FindingLayout::JitDecode:
      return "jit-decode";
    case FindingLayout::Asm:
      return "asm";
    case FindingLayout::ElfGen:
      return "elf-gen";
  }
  return "?";
}

std::optional<FindingLayout> finding_layout_named(std::string_view name) {
  for (const FindingLayout l : kLayouts) {
    if (name == to_string(l)) return l;
  }
  return std::nullopt;
}

std::vector<std::string> finding_layout_names() {
  std::vector<std::string> out;
  for (const FindingLayout l : kLayouts)
    out.emplace_back(to_string(l));
  return out;
}

std::optional<FindingLayout> layout_of_target(std::string_view target) {
  if (target == "interp_vs_jit_raw") return FindingLayout::Raw;
  if (target == "interp_vs_jit_gen") return FindingLayout::Generated;
  if (target == "interp_vs_jit_insn") return FindingLayout::SingleInsn;
  if (target == "elf_gen") return FindingLayout::ElfGen;
  return std::nullopt;
}

Result<FindingCase> read_finding(const std::string& path, FindingLayout layout) {
  auto bytes = read_file(path);
  if (!bytes) return bytes.error();
  switch (layout) {
    case FindingLayout::Raw:
      return from_raw(*bytes, path, layout);
    case FindingLayout::JitDecode:
      if (bytes->empty()) return make_error(path + ": empty (jit_decode's first byte holds the JIT options)");
      return from_raw(std::span<const uint8_t>(*bytes).subspan(1), path, layout);
    case FindingLayout::Kernel: {
      auto k = fuzz::kernel_target_case(*bytes, this_kernels_isa_version());
      if (!k) return make_error(path + ": " + k.error().message);
      const uint64_t budget = k->budget;
      FindingCase c = from_generated(std::move(k->c), layout);
      c.budget = budget;
      return c;
    }
    case FindingLayout::LoopFree: {
      fuzz::ByteSource src(*bytes);
      fuzz::LoopFreeCase g = fuzz::generate_loop_free(src);
      FindingCase c;
      c.program = std::move(g.program);
      c.memory = std::move(g.input.memory);
      c.budget = g.input.limits.instruction_budget;
      c.layout = layout;
      return c;
    }
    case FindingLayout::Asm: {
      if (bytes->empty())
        return make_error(path + ": empty (asm_roundtrip's first byte chooses slots or text)");
      const std::span<const uint8_t> rest = std::span<const uint8_t>(*bytes).subspan(1);
      FindingCase c;
      c.layout = layout;
      c.budget = vm::ExecLimits{}.instruction_budget;
      if (((*bytes)[0] & 1) != 0) {
        c.program.slots = isa::decode_slots(rest.first(rest.size() - rest.size() % isa::kSlotBytes));
        return c;
      }
      auto program =
          text::assemble(std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()));
      if (!program) return make_error(path + ": " + program.error().message);
      c.program = std::move(program).value();
      return c;
    }
    case FindingLayout::Generated: {
      // As interp_vs_jit_gen reads it: the run mode and limits follow the program.
      fuzz::ByteSource src(*bytes);
      fuzz::GeneratorOptions options;
      options.max_instructions = fuzz::kGenTargetSlots;
      fuzz::ModeCase m = fuzz::generate_limit_case(src, options);
      FindingCase c;
      c.program = std::move(m.program);
      c.memory = std::move(m.input.memory);
      c.budget = m.input.limits.instruction_budget;
      c.setup = run_setup_of(m.input);
      c.layout = layout;
      return c;
    }
    case FindingLayout::SingleInsn: {
      fuzz::ByteSource src(*bytes);
      return from_generated(fuzz::single_insn_case(src), layout);
    }
    case FindingLayout::ElfGen:
      return from_elf_gen(*bytes, path);
    case FindingLayout::Program: {
      auto input = load_replay_input(path, false, oracle::default_helpers());
      if (!input) return input.error();
      FindingCase c;
      c.program = std::move(input->program);
      c.memory = std::move(input->memory);
      c.setup = input->setup;
      const std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
      c.budget = input->fuzz_layout ? fuzz::kRawInputInstructionBudget
                                    : data_test_budget(text).value_or(vm::ExecLimits{}.instruction_budget);
      c.layout = layout;
      return c;
    }
  }
  return make_error(path + ": unknown layout");
}

std::optional<fuzz::Signature> signature_of(const FindingCase& c, NamedEngines& engines) {
  if (engines.engines.size() < 2) return std::nullopt;
  std::vector<oracle::Engine*> others;
  for (std::size_t i = 1; i < engines.engines.size(); ++i)
    others.push_back(engines.engines[i].get());
  return fuzz::first_signature(c.program, engine_input(c), *engines.engines.front(), others);
}

FindingCase shrink_finding(const FindingCase& c, const fuzz::Signature& signature,
                           const FindingSignatureFn& signature_fn, const fuzz::MinimizeOptions& options,
                           fuzz::MinimizeStats* stats) {
  const auto same_signature = [&](const fuzz::MinimizeCase& candidate) {
    FindingCase x = c;
    x.program = candidate.program;
    x.memory = candidate.memory;
    const auto s = signature_fn(x);
    return s && *s == signature;
  };
  const fuzz::MinimizeCase shrunk = fuzz::minimize({c.program, c.memory}, same_signature, options, stats);
  FindingCase out = c;
  out.program = shrunk.program;
  out.memory = shrunk.memory;
  return out;
}

MinimizedFinding minimize_finding(const FindingCase& c, const fuzz::Signature& signature,
                                  NamedEngines& engines, const fuzz::MinimizeOptions& options) {
  MinimizedFinding out;
  out.signature = signature;
  out.original = c;
  out.minimized = shrink_finding(
      c, signature, [&](const FindingCase& x) { return signature_of(x, engines); }, options, &out.stats);
  if (auto s = signature_of(out.minimized, engines)) out.signature = *s;  // the pc in the minimized program
  out.reference = engines.engines.front()->run(out.minimized.program, engine_input(out.minimized));
  return out;
}

text::DataTest reference_data_test(const vm::Program& program, std::span<const uint8_t> memory,
                                   const oracle::Outcome& reference, const RunSetup& setup) {
  text::DataTest test;
  test.asm_source = text::disassemble(program.slots);
  test.memory.assign(memory.begin(), memory.end());
  test.maps = program.maps;
  if (setup.mode != text::DataRunMode{}) test.run_mode = setup.mode;
  if (!reference.loaded) {
    test.error = reference.load_error;
  } else if (!reference.ok()) {
    test.error = vm::describe(reference.error);
  } else {
    test.result = reference.regs[0];
  }
  return test;
}

std::string replay_data_text(const vm::Program& program, std::span<const uint8_t> memory,
                             const oracle::Outcome& reference, uint64_t budget, const RunSetup& setup,
                             std::string_view comments) {
  return std::string(comments) + "# budget " + std::to_string(budget) + "\n" + call_depth_comment(setup) +
         text::format_data_test(reference_data_test(program, memory, reference, setup));
}

std::string case_data_text(const vm::Program& program, std::span<const uint8_t> memory, uint64_t budget,
                           const RunSetup& setup, std::string_view comments) {
  text::DataTest test = reference_data_test(program, memory, oracle::Outcome{}, setup);
  test.result.reset();
  test.error.reset();
  return std::string(comments) + "# budget " + std::to_string(budget) + "\n" + call_depth_comment(setup) +
         text::format_data_test(test);
}

std::string regression_test_text(const MinimizedFinding& f, const std::string& origin,
                                 const std::string& data_path) {
  const text::DataTest test =
      reference_data_test(f.minimized.program, f.minimized.memory, f.reference, f.minimized.setup);
  std::string header = "# bpfdiff minimize: " + f.signature.title() + "\n";
  header += "# from " + origin + " (" + to_string(f.original.layout) + ", " +
            std::to_string(f.original.program.slots.size()) + " slots) to " +
            std::to_string(f.minimized.program.slots.size()) + " slots\n";
  header += "# expected: what " + f.signature.reference + " produced; every engine must agree\n";
  header += "# budget " + std::to_string(f.minimized.budget) + "\n";
  header += call_depth_comment(f.minimized.setup);
  header += "# bpfdiff repro " + data_path + " --budget " + std::to_string(f.minimized.budget) +
            " --engines " + f.signature.reference + "," + f.signature.engine +
            (f.gate_runs ? " --gate-runs" : "") + "\n";
  return header + text::format_data_test(test);
}

Result<std::string> write_regression_test(const MinimizedFinding& f, const std::string& origin,
                                          const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(dir + ": " + ec.message());
  const std::string key = f.signature.key();
  for (int n = 1; n < 1000; ++n) {
    const fs::path path = fs::path(dir) / (key + (n == 1 ? "" : "-" + std::to_string(n)) + ".data");
    const std::string text = regression_test_text(f, origin, path.string());
    if (fs::exists(path, ec)) {
      auto existing = read_file(path.string());
      if (existing && std::string(existing->begin(), existing->end()) == text) return path.string();
      continue;
    }
    if (auto w = write_text_atomically(path.string(), text); !w) return w.error();
    return path.string();
  }
  return make_error(dir + ": too many regression tests named " + key);
}

std::optional<uint64_t> data_test_budget(std::string_view text) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.substr(0, 2) == "--") break;
    if (line.empty() || line.front() != '#') continue;
    line.remove_prefix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
      line.remove_prefix(1);
    constexpr std::string_view kKey = "budget ";
    if (line.substr(0, kKey.size()) != kKey) continue;
    line.remove_prefix(kKey.size());
    uint64_t value = 0;
    std::size_t digits = 0;
    for (; digits < line.size() && line[digits] >= '0' && line[digits] <= '9'; ++digits) {
      if (value > (UINT64_MAX - 9) / 10) return std::nullopt;
      value = value * 10 + static_cast<uint64_t>(line[digits] - '0');
    }
    if (digits == 0 || value == 0) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

}  // namespace bpfdiff::cli
