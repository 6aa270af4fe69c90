#include "fuzz/gate/gate.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <string_view>
#include <system_error>
#include <utility>

#include "fuzz/byte_source.hpp"
#include "fuzz/elf_object_gen.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/limits.hpp"
#include "fuzz/raw_input.hpp"
#include "fuzz/run_modes.hpp"
#include "fuzz/single_insn.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/input.hpp"
#include "vm/elf/elf_loader.hpp"
#include "vm/isa/raw.hpp"
#include "vm/isa/table.hpp"
#include "vm/runtime/error.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Letters, digits, '.', '_' and '-' only: safe in a file name and a shell word.
std::string sanitize(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    out += safe ? c : '_';
  }
  return out;
}

std::string zero_padded(std::size_t value, int width) {
  std::string s = std::to_string(value);
  if (static_cast<int>(s.size()) < width) s.insert(0, static_cast<std::size_t>(width) - s.size(), '0');
  return s;
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

std::string shell_quote(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::strchr("._-/+=,:@", c) != nullptr;
  });
  if (plain) return word;
  std::string out = "'";
  for (const char c : word)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The seed of generated program `index` of a run seeded with `seed`.
uint64_t program_seed(uint64_t seed, std::size_t index) {
  return splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(index));
}

// Every regular file under `dir`, sorted, so runs are reproducible.
Result<std::vector<fs::path>> sorted_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  if (ec) return make_error(dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

// How the fuzz target named by a corpus/fuzz/<target> directory reads its input.
enum class SeedLayout : uint8_t { Raw, Generated, SingleInsn, Unused };

SeedLayout layout_of(std::string_view target) {
  if (target.size() >= 4 && target.substr(target.size() - 4) == "_raw") return SeedLayout::Raw;
  if (target == "interp_vs_jit_gen") return SeedLayout::Generated;
  if (target == "interp_vs_jit_insn") return SeedLayout::SingleInsn;
  return SeedLayout::Unused;  // asm_roundtrip: no program to run
}

// One file of the corpus phase, read when its turn comes.
struct CorpusFile {
  fs::path path;
  std::string target;  // empty for a regression test
  SeedLayout layout = SeedLayout::Unused;
};

Result<std::vector<CorpusFile>> list_corpus(const std::vector<std::string>& dirs, std::size_t& skipped) {
  std::vector<CorpusFile> out;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return make_error("corpus directory '" + dir + "' not found");
    const fs::path regressions = fs::path(dir) / "regressions";
    if (fs::is_directory(regressions, ec)) {
      auto files = sorted_files(regressions);
      if (!files) return files.error();
      for (const fs::path& f : *files) {
        if (lowercase_extension(f.string()) == ".data") out.push_back({f, "", SeedLayout::Unused});
      }
    }
    const fs::path fuzz_dir = fs::path(dir) / "fuzz";
    if (!fs::is_directory(fuzz_dir, ec)) continue;
    std::vector<fs::path> targets;
    for (fs::directory_iterator it(fuzz_dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec)) targets.push_back(it->path());
    }
    if (ec) return make_error(fuzz_dir.string() + ": " + ec.message());
    std::sort(targets.begin(), targets.end());
    for (const fs::path& t : targets) {
      auto files = sorted_files(t);
      if (!files) return files.error();
      const std::string target = t.filename().string();
      const SeedLayout layout = layout_of(target);
      if (layout == SeedLayout::Unused) {
        skipped += files->size();
        continue;
      }
      for (const fs::path& f : *files)
        out.push_back({f, target, layout});
    }
  }
  return out;
}

GateCase generated_case(fuzz::GeneratedCase&& c, std::string id, std::string origin) {
  GateCase out;
  out.id = std::move(id);
  out.origin = std::move(origin);
  out.program = std::move(c.program);
  out.memory = std::move(c.memory);
  out.budget = fuzz::kGeneratedInstructionBudget;
  return out;
}

GateCase mode_case(fuzz::ModeCase&& m, std::string id, std::string origin) {
  GateCase out;
  out.id = std::move(id);
  out.origin = std::move(origin);
  out.program = std::move(m.program);
  out.memory = std::move(m.input.memory);
  out.budget = m.input.limits.instruction_budget;
  out.setup = run_setup_of(m.input);
  return out;
}

fuzz::GeneratorOptions generator_options() {
  fuzz::GeneratorOptions options;
  options.max_instructions = kGateGeneratedSlots;
  return options;
}

// The case a corpus file holds; nullopt when its target would not run it
// (raw bytes that are no program). Errors: an unreadable file or a regression
// test that does not load.
Result<std::optional<GateCase>> corpus_case(const CorpusFile& file) {
  const std::string stem = file.path.stem().string();
  if (file.target.empty()) {
    auto input = load_replay_input(file.path.string(), false, oracle::default_helpers());
    if (!input) return input.error();
    auto text = read_file(file.path.string());
    if (!text) return text.error();
    GateCase c;
    c.id = sanitize("regression-" + stem);
    c.origin = file.path.string();
    c.program = std::move(input->program);
    c.memory = std::move(input->memory);
    c.setup = input->setup;
    c.budget = data_test_budget(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()))
                   .value_or(vm::ExecLimits{}.instruction_budget);
    return std::optional<GateCase>(std::move(c));
  }
  auto bytes = read_file(file.path.string());
  if (!bytes) return bytes.error();
  const std::string id = sanitize("corpus-" + file.target + "-" + stem);
  const std::string origin = file.path.string();
  switch (file.layout) {
    case SeedLayout::Raw: {
      const fuzz::RawInput raw = fuzz::split_raw_input(*bytes);
      auto program = vm::program_from_bytes(raw.program);
      if (!program) return std::optional<GateCase>();
      GateCase c;
      c.id = id;
      c.origin = origin;
      c.program = std::move(program).value();
      c.memory.assign(raw.memory.begin(), raw.memory.end());
      c.budget = kFuzzTargetBudget;
      return std::optional<GateCase>(std::move(c));
    }
    case SeedLayout::Generated: {
      fuzz::ByteSource src(*bytes);
      GateCase c = mode_case(fuzz::generate_limit_case(src, generator_options()), id, origin);
      c.decisions = *bytes;
      return std::optional<GateCase>(std::move(c));
    }
    case SeedLayout::SingleInsn: {
      fuzz::ByteSource src(*bytes);
      return std::optional<GateCase>(generated_case(fuzz::single_insn_case(src), id, origin));
    }
    case SeedLayout::Unused:
      break;
  }
  return std::optional<GateCase>();
}

// The finding for outcomes of run `run` that differ; a first run is signed
// (where the reference and the divergent engine part ways), as every tool
// replays it.
GateFinding finding_of(GatePhase phase, GateCase&& c, NamedEngines& engines, std::size_t run,
                       std::vector<oracle::Outcome>&& outcomes, std::vector<EngineDifference>&& differences) {
  std::optional<fuzz::Signature> signature;
  for (std::size_t i = 1; run == 0 && i < engines.engines.size() && !signature; ++i) {
    if (engines.names[i] != differences.front().right) continue;
    signature = fuzz::divergence_signature(c.program, engine_input(c.memory, c.budget, c.setup),
                                           *engines.engines[0], *engines.engines[i]);
  }
  GateFinding f{phase, std::move(c), std::move(outcomes), std::move(differences), std::move(signature)};
  f.run = run;
  return f;
}

// Runs one case on every engine (and, with `reruns`, again on each engine's
// prepared program); the finding at the first run where they disagree.
std::optional<GateFinding> check(GatePhase phase, GateCase&& c, NamedEngines& engines, bool reruns) {
  GateRuns runs = run_like_the_gate(engines, c.program, engine_input(c.memory, c.budget, c.setup), reruns);
  if (!runs.diverged) return std::nullopt;
  return finding_of(phase, std::move(c), engines, *runs.diverged, std::move(runs.outcomes),
                    std::move(runs.differences));
}

class PhaseRunner {
 public:
  PhaseRunner(GateReport& report, NamedEngines& engines, const GateProgressFn& progress, GatePhase phase,
              std::size_t total, bool reruns)
      : report_(report),
        engines_(engines),
        progress_(progress),
        start_(Clock::now()),
        total_(total),
        reruns_(reruns && all_in_process(engines)) {
    stats_.phase = phase;
  }
  ~PhaseRunner() {
    stats_.seconds = seconds_since(start_);
    report_.phases.push_back(stats_);
  }
  PhaseRunner(const PhaseRunner&) = delete;
  PhaseRunner& operator=(const PhaseRunner&) = delete;

  // False when the case diverged: the report holds the finding.
  bool run(GateCase&& c) {
    const bool agreed = run_uncounted(std::move(c));
    ++stats_.programs;
    tick();
    return agreed;
  }
  // A case that is one of several runs of one item of `total`.
  bool run_uncounted(GateCase&& c) {
    const std::span<const vm::RunMode> modes = fuzz::all_run_modes();
    const auto mode = std::find(modes.begin(), modes.end(), c.setup.mode.mode);
    if (mode != modes.end()) ++stats_.runs_by_mode[static_cast<std::size_t>(mode - modes.begin())];
    auto finding = check(stats_.phase, std::move(c), engines_, reruns_);
    if (!finding) return true;
    report_.finding = std::move(finding);
    return false;
  }
  // A case of `total` that is not run.
  void skip() {
    ++stats_.skipped;
    tick();
  }
  // Files skipped without being visited (not part of `total`).
  void add_unvisited(std::size_t n) { stats_.skipped += n; }

 private:
  void tick() {
    ++done_;
    if (progress_) progress_(stats_.phase, done_, total_);
  }

  GateReport& report_;
  NamedEngines& engines_;
  const GateProgressFn& progress_;
  Clock::time_point start_;
  GatePhaseStats stats_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  bool reruns_ = false;
};

Result<void> corpus_phase(const GateOptions& options, GateReport& report, NamedEngines& engines,
                          const GateProgressFn& progress) {
  std::size_t unused = 0;
  auto files = list_corpus(options.corpus_dirs, unused);
  if (!files) return files.error();
  PhaseRunner phase(report, engines, progress, GatePhase::Corpus, files->size(), options.reruns);
  phase.add_unvisited(unused);
  for (const CorpusFile& file : *files) {
    auto c = corpus_case(file);
    if (!c) return c.error();
    if (!*c) {
      phase.skip();
      continue;
    }
    if (!phase.run(std::move(**c))) break;
  }
  return {};
}

void single_insn_phase(const GateOptions& options, GateReport& report, NamedEngines& engines,
                       const GateProgressFn& progress) {
  std::vector<fuzz::SingleInsnCase> cases = fuzz::enumerate_single_insn_cases(options.insn_per_form);
  PhaseRunner phase(report, engines, progress, GatePhase::SingleInsn, cases.size(), options.reruns);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string_view form = isa::info(cases[i].form).name;
    const std::size_t nth = options.insn_per_form == 0 ? 0 : i % options.insn_per_form;
    GateCase c = generated_case(std::move(cases[i].c),
                                sanitize("single-insn-" + std::string(form) + "-" + std::to_string(nth)),
                                "form " + std::string(form) + ", case " + std::to_string(nth));
    if (!phase.run(std::move(c))) break;
  }
}

// Generated case `index` of the run seeded with `seed`, with its decisions.
GateCase generated_program(uint64_t seed, std::size_t index) {
  fuzz::ByteSource src(program_seed(seed, index));
  GateCase c = mode_case(fuzz::generate_limit_case(src, generator_options()),
                         "generated-s" + std::to_string(seed) + "-" + zero_padded(index, 6),
                         "seed " + std::to_string(seed) + ", program " + std::to_string(index));
  // The bytes the seeded source handed out are the decisions: read from
  // a byte source, they make the same program in the same mode.
  fuzz::ByteSource again(program_seed(seed, index));
  c.decisions.resize(src.consumed());
  for (uint8_t& b : c.decisions)
    b = again.byte();
  return c;
}

void generated_phase(const GateOptions& options, GateReport& report, NamedEngines& engines,
                     const GateProgressFn& progress) {
  PhaseRunner phase(report, engines, progress, GatePhase::Generated, options.programs, options.reruns);
  for (std::size_t i = 0; i < options.programs; ++i) {
    if (!phase.run(generated_program(options.seed, i))) break;
  }
}

// Each of the first limit_programs generated cases under every limit variant
// of its run as the reference engine measures it (a reference that cannot
// trace skips them).
void limits_phase(const GateOptions& options, GateReport& report, NamedEngines& engines,
                  const GateProgressFn& progress) {
  const std::size_t programs = std::min(options.limit_programs, options.programs);
  PhaseRunner phase(report, engines, progress, GatePhase::Limits, programs, options.reruns);
  for (std::size_t i = 0; i < programs; ++i) {
    const GateCase base = generated_program(options.seed, i);
    const oracle::EngineInput input = engine_input(base.memory, base.budget, base.setup);
    const std::optional<fuzz::RunExtent> extent =
        fuzz::measure_extent(*engines.engines.front(), base.program, input);
    if (!extent) {
      phase.skip();
      continue;
    }
    const std::vector<vm::ExecLimits> variants =
        fuzz::limit_variants(*extent, input.limits, options.limit_sweep);
    for (std::size_t v = 0; v < variants.size(); ++v) {
      GateCase c = base;
      c.id = sanitize(base.id + "-limit" + std::to_string(v));
      c.origin = base.origin + ", budget " + std::to_string(variants[v].instruction_budget) + " and depth " +
                 std::to_string(variants[v].max_call_depth) + " (run needs " +
                 std::to_string(extent->instructions) + " and " + std::to_string(extent->frames) + ")";
      c.budget = variants[v].instruction_budget;
      c.setup.max_call_depth = variants[v].max_call_depth;
      // The last variant of a program counts it as done.
      const bool last = v + 1 == variants.size();
      if (!(last ? phase.run(std::move(c)) : phase.run_uncounted(std::move(c)))) return;
    }
  }
}

// The packets of DIR/elf/inputs for the ELF phase, sorted; one empty packet
// when there are none.
Result<std::vector<std::vector<uint8_t>>> elf_packets(const std::vector<std::string>& dirs) {
  std::vector<std::vector<uint8_t>> packets;
  for (const std::string& dir : dirs) {
    const fs::path inputs = fs::path(dir) / "elf" / "inputs";
    std::error_code ec;
    if (!fs::is_directory(inputs, ec)) continue;
    auto files = sorted_files(inputs);
    if (!files) return files.error();
    for (const fs::path& f : *files) {
      auto bytes = read_file(f.string());
      if (!bytes) return bytes.error();
      packets.push_back(std::move(bytes).value());
    }
  }
  if (packets.empty()) packets.emplace_back();
  return packets;
}

// Generated objects (fuzz/elf_object_gen.hpp): one to three generated cases
// written as one object. The loader must read back exactly the program that
// was written -- a difference stops the gate as an error, naming the object
// -- and each of its programs then runs in its case's mode and input.
Result<void> generated_elf_objects(const GateOptions& options, PhaseRunner& phase) {
  constexpr uint64_t kElfObjectSalt = 0xe1f0b1ec7ull;
  fuzz::GeneratorOptions generator = generator_options();
  generator.helper_rate = 0.2;  // maps: legacy definitions and global data
  generator.call_rate = 0.15;   // subprograms: .text and calls across sections
  for (std::size_t j = 0; j < options.elf_objects; ++j) {
    fuzz::ByteSource src(program_seed(options.seed ^ kElfObjectSalt, j));
    std::vector<fuzz::ModeCase> cases(1 + src.below(3));
    std::vector<vm::Program> programs;
    for (fuzz::ModeCase& m : cases) {
      m = fuzz::generate_limit_case(src, generator);
      programs.push_back(m.program);
    }
    auto object = fuzz::elf_object_from_programs(programs, src);
    if (!object) {  // a program the format cannot express (its reason is in the message)
      phase.skip();
      continue;
    }
    const std::string name = "elf-gen-s" + std::to_string(options.seed) + "-" + zero_padded(j, 6);
    auto loaded = elf::load_elf(object->bytes);
    if (!loaded)
      return make_error("generated ELF object " + name + " does not load: " + loaded.error().message);
    if (auto d = fuzz::loaded_object_difference(object->expected, loaded->program))
      return make_error("generated ELF object " + name +
                        " reads back differently (an ELF loader bug): " + *d);
    for (std::size_t k = 0; k < cases.size(); ++k) {
      auto program = elf::program_named(*loaded, object->entry_names[k]);
      if (!program) return make_error("generated ELF object " + name + ": " + program.error().message);
      cases[k].program = std::move(program).value();
      GateCase c = mode_case(std::move(cases[k]), sanitize(name + "-" + object->entry_names[k]),
                             "generated ELF object " + std::to_string(j) + " of seed " +
                                 std::to_string(options.seed) + ", program " + object->entry_names[k]);
      const bool last = k + 1 == cases.size();
      if (!(last ? phase.run(std::move(c)) : phase.run_uncounted(std::move(c)))) return {};
    }
  }
  return {};
}

// Every program of every corpus ELF object, in each run mode: the packet
// modes over every packet, memory mode over the first, and mode none. The
// phase counts objects as its programs.
Result<void> elf_phase(const GateOptions& options, GateReport& report, NamedEngines& engines,
                       const GateProgressFn& progress) {
  std::vector<fs::path> objects;
  for (const std::string& dir : options.corpus_dirs) {
    const fs::path seeds = fs::path(dir) / "fuzz" / "elf_loader";
    std::error_code ec;
    if (!fs::is_directory(seeds, ec)) continue;
    auto files = sorted_files(seeds);
    if (!files) return files.error();
    objects.insert(objects.end(), files->begin(), files->end());
  }
  auto packets = elf_packets(options.corpus_dirs);
  if (!packets) return packets.error();
  PhaseRunner phase(report, engines, progress, GatePhase::Elf, objects.size() + options.elf_objects,
                    options.reruns);
  for (const fs::path& path : objects) {
    auto bytes = read_file(path.string());
    if (!bytes) return bytes.error();
    auto object = elf::load_elf(*bytes);
    if (!object) {
      phase.skip();
      continue;
    }
    std::vector<GateCase> cases;
    // An object of .text functions only (what bpf_conformance's runner
    // builds) runs each of them as the entry.
    const std::vector<elf::ElfFunction>& entries =
        object->programs.empty() ? object->subprograms : object->programs;
    for (const elf::ElfFunction& f : entries) {
      auto program = elf::program_named(*object, f.name);
      if (!program) continue;
      const auto add = [&](vm::RunMode mode, std::size_t packet, std::span<const uint8_t> memory) {
        GateCase c;
        c.id = sanitize("elf-" + path.stem().string() + "-" + f.name + "-" + text::run_mode_name(mode) + "-" +
                        std::to_string(packet));
        c.origin = path.string() + ", program " + f.name + ", " + text::run_mode_name(mode) +
                   " mode, packet " + std::to_string(packet);
        c.program = *program;
        c.memory.assign(memory.begin(), memory.end());
        c.budget = kFuzzTargetBudget;
        c.setup.mode.mode = mode;
        cases.push_back(std::move(c));
      };
      for (std::size_t p = 0; p < packets->size(); ++p) {
        add(vm::RunMode::Packet, p, (*packets)[p]);
        add(vm::RunMode::MetaBuffer, p, (*packets)[p]);
      }
      add(vm::RunMode::Memory, 0, packets->front());
      add(vm::RunMode::NoData, 0, {});
    }
    if (cases.empty()) {
      phase.skip();
      continue;
    }
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const bool last = i + 1 == cases.size();
      if (!(last ? phase.run(std::move(cases[i])) : phase.run_uncounted(std::move(cases[i])))) return {};
    }
  }
  return generated_elf_objects(options, phase);
}

}  // namespace

const char* to_string(GatePhase phase) {
  switch (phase) {
    case GatePhase::Corpus:
      return "corpus";
    case GatePhase::SingleInsn:
      return "single-insn";
    case GatePhase::Generated:
      return "generated";
    case GatePhase::Limits:
      return "limits";
    case GatePhase::Elf:
      return "elf";
  }
  return "?";
}

std::size_t GatePhaseStats::runs() const {
  std::size_t n = 0;
  for (const std::size_t r : runs_by_mode)
    n += r;
  return n;
}

std::string GateFinding::divergent_engine() const {
  return differences.empty() ? std::string() : differences.front().right;
}

std::size_t GateReport::total_programs() const {
  std::size_t n = 0;
  for (const GatePhaseStats& p : phases)
    n += p.programs;
  return n;
}

double GateReport::programs_per_second() const {
  return seconds > 0 ? static_cast<double>(total_programs()) / seconds : 0;
}

Result<GateReport> run_gate(const GateOptions& options, NamedEngines& engines,
                            const GateProgressFn& progress) {
  GateReport report;
  report.engines = engines.names;
  const Clock::time_point start = Clock::now();
  auto corpus = corpus_phase(options, report, engines, progress);
  if (!corpus) return corpus.error();
  if (!report.finding) single_insn_phase(options, report, engines, progress);
  if (!report.finding) generated_phase(options, report, engines, progress);
  if (!report.finding) limits_phase(options, report, engines, progress);
  if (!report.finding) {
    if (auto elf = elf_phase(options, report, engines, progress); !elf) return elf.error();
  }
  report.seconds = seconds_since(start);
  return report;
}

text::DataTest finding_data_test(const GateFinding& finding) {
  return reference_data_test(finding.gate_case.program, finding.gate_case.memory, finding.outcomes.front(),
                             finding.gate_case.setup);
}

Result<WrittenFinding> write_finding(const GateFinding& finding, const std::string& out_dir,
                                     const std::vector<std::string>& engines) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return make_error(out_dir + ": " + ec.message());
  const GateCase& c = finding.gate_case;
  const fs::path base = fs::path(out_dir) / (c.id.empty() ? std::string("finding") : c.id);

  WrittenFinding out;
  out.input_path = base.string() + ".input";
  out.data_path = base.string() + ".data";
  const std::string budget = std::to_string(c.budget);
  // The run mode and call depth as flags: raw inputs cannot carry them; the
  // .gen decisions do, but the limits phase changes the depth.
  std::string setup = run_setup_flags(c.setup);
  if (c.setup.max_call_depth == vm::ExecLimits{}.max_call_depth && !c.decisions.empty())
    setup += " --max-call-depth " + std::to_string(c.setup.max_call_depth);
  const std::string reference = finding.outcomes.empty() ? std::string() : finding.outcomes.front().engine;
  std::string all;
  for (const std::string& e : engines)
    all += (all.empty() ? "" : ",") + e;
  out.repro_command = "bpfdiff repro " + shell_quote(out.input_path) + " --fuzz-input --budget " + budget +
                      setup + " --engines " + shell_quote(reference + "," + finding.divergent_engine());
  out.diff_command = "bpfdiff diff " + shell_quote(out.input_path) + " --fuzz-input --budget " + budget +
                     setup + " --engines " + shell_quote(all);

  const std::vector<uint8_t> input = fuzz::join_raw_input(isa::encode_slots(c.program.slots), c.memory);
  if (auto w = write_file_atomically(out.input_path, input); !w) return w.error();
  if (!c.decisions.empty()) {
    out.decisions_path = base.string() + ".gen";
    if (auto w = write_file_atomically(out.decisions_path, c.decisions); !w) return w.error();
  }
  if (!c.program.maps.empty() && !out.decisions_path.empty()) {
    out.repro_command = "bpfdiff repro " + shell_quote(out.decisions_path) + " --layout generated --budget " +
                        budget + setup + " --engines " +
                        shell_quote(reference + "," + finding.divergent_engine());
    out.diff_command = "bpfdiff diff " + shell_quote(out.decisions_path) + " --layout generated --budget " +
                       budget + setup + " --engines " + shell_quote(all);
  } else if (!c.program.maps.empty() || c.program.entry != 0) {
    // Maps (an ELF object's) or an entry past slot 0: only the .data test
    // holds the maps; it carries the mode, budget and depth too.
    out.repro_command = "bpfdiff repro " + shell_quote(out.data_path) + " --engines " +
                        shell_quote(reference + "," + finding.divergent_engine());
    out.diff_command = "bpfdiff diff " + shell_quote(out.data_path) + " --engines " + shell_quote(all);
  }

  // A later run replays only as the gate's sequence of runs (diff runs once).
  if (finding.run > 0) out.repro_command += " --gate-runs";
  if (finding.run > 0 && runs_varied_input(finding.run)) {
    out.varied_memory_path = base.string() + ".varied.mem";
    const oracle::EngineInput varied = varied_input(engine_input(c.memory, c.budget, c.setup));
    if (auto w = write_file_atomically(out.varied_memory_path, varied.memory); !w) return w.error();
  }

  std::string data =
      "# bpfdiff gate finding (" + std::string(to_string(finding.phase)) + ": " + one_line(c.origin) + ")\n" +
      (finding.signature ? "# signature: " + finding.signature->title() + "\n" : std::string()) + "# " +
      reference + " vs " + finding.divergent_engine() + ": " +
      one_line(finding.differences.empty() ? std::string()
                                           : oracle::to_string(finding.differences.front().difference)) +
      "\n" + (finding.run > 0 ? "# diverged " + rerun_description(finding.run) + "\n" : std::string()) +
      "# expected: what " + reference + " produced\n# budget " + budget + "\n" + call_depth_comment(c.setup) +
      "# " + out.repro_command + "\n";
  data += text::format_data_test(finding_data_test(finding));
  if (auto w = write_text_atomically(out.data_path, data); !w) return w.error();
  return out;
}

std::string format_finding(const GateFinding& f, const WrittenFinding* written) {
  const std::string reference = f.outcomes.empty() ? std::string("?") : f.outcomes.front().engine;
  std::string text = "gate: FAIL: divergence " + reference + " vs " + f.divergent_engine() + " in phase " +
                     to_string(f.phase) + " (" + f.gate_case.origin + "), budget " +
                     std::to_string(f.gate_case.budget) + "\n";
  if (f.run > 0) {
    text += "diverged " + rerun_description(f.run) +
            "; the first run agrees, so diff (one run) shows no difference: `repro --gate-runs` (below) "
            "prepares the program once on each engine and runs it as the gate did";
    if (!runs_varied_input(f.run)) {
      text += ", as does `bpfdiff run DATA --repeat " + std::to_string(f.run + 1) +
              " --state --maps --budget " + std::to_string(f.gate_case.budget) +
              run_setup_flags(f.gate_case.setup) + " --engine E` on each engine";
    } else {
      // `bpfdiff run --repeat` reruns one input only.
      text +=
          " -- the memory, the memory again, " +
          (written != nullptr && !written->varied_memory_path.empty() ? written->varied_memory_path
                                                                      : std::string("the varied memory")) +
          " (seed + 1), the memory after a map reset; a varied run that diverges alone also shows with "
          "`bpfdiff diff` on that memory";
    }
    text += "\n";
  }
  if (f.signature) text += "signature: " + f.signature->title() + "\n";
  text += "differences:\n";
  for (const EngineDifference& d : f.differences)
    text += "  " + d.left + " vs " + d.right + ": " + oracle::to_string(d.difference) + "\n";
  if (written != nullptr) {
    text += "reproducer:\n  " + written->input_path + "  (fuzz layout: u32 length | program | memory)\n  " +
            written->data_path + "  (.data test with " + reference + "'s result)\n";
    if (!written->decisions_path.empty())
      text += "  " + written->decisions_path +
              "  (generator decisions: an interp_vs_jit_gen input, maps included)\n";
    text += "replay:\n  " + written->repro_command + "\n  " + written->diff_command + "\n";
  }
  return text;
}

ProgressThrottle::ProgressThrottle(std::chrono::milliseconds interval)
    : interval_(interval), last_(Clock::now()) {}

bool ProgressThrottle::ready() {
  const auto now = Clock::now();
  if (now - last_ < interval_) return false;
  last_ = now;
  return true;
}

}  // namespace bpfdiff::cli
