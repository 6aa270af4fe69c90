#include "fuzz/kernel_campaign/kernel_finding.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "fuzz/findings/atomic_file.hpp"
#include "fuzz/findings/finding.hpp"
#include "fuzz/raw_input.hpp"
#include "oracle/kernel/bpf_syscall.hpp"
#include "oracle/kernel/c_reproducer.hpp"
#include "oracle/kernel/guest/guest_pool.hpp"
#include "oracle/kernel_engine.hpp"
#include "oracle/kernel_entry_program.hpp"
#include "oracle/kernel_outcome.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/report.hpp"
#include "vm/isa/raw.hpp"
#include "vm/text/data_file.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

constexpr std::string_view kGuestFailurePrefix = "guest failure: ";
constexpr std::string_view kRecordMarker = "; finding ";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names)
    out += (out.empty() ? "" : ",") + n;
  return out;
}

// The .data test with the reference engine's result: what every engine
// should produce once the bug is understood.
// It carries the maps, so it is what the repro command replays.
std::string data_test(const vm::Program& program, std::span<const uint8_t> memory, const KernelCase& c) {
  return replay_data_text(program, memory, c.outcomes.front(), c.input.limits.instruction_budget,
                          run_setup_of(c.input));
}

bool has_field(const KernelFindingRecord& f, std::string_view prefix) {
  return std::any_of(f.differences.begin(), f.differences.end(),
                     [&](const oracle::Difference& d) { return d.field.rfind(prefix, 0) == 0; });
}

// The wrapper a full-state kernel run used, recovered from its description.
std::optional<oracle::kernel::Instrumentation> instrumentation_of(const oracle::KernelOutcome& k) {
  for (uint32_t v = 0; v < oracle::kernel::kInstrumentationVariants; ++v) {
    const oracle::kernel::Instrumentation i = oracle::kernel::instrumentation_for_seed(v);
    if (oracle::kernel::describe(i) == k.instrumentation) return i;
  }
  return std::nullopt;
}

// repro.c: a state mismatch as a standalone raw-bpf() program for a kernel
// developer (oracle/kernel/c_reproducer.hpp), in the smallest form that shows
// it: the program unmodified when the unmodified run differs, else inside the
// full-state wrapper the kernel run used, comparing only what differed.
std::optional<std::string> reproducer_source(const KernelFindingRecord& f, const KernelCase& c) {
  if (f.kind != "mismatch" || c.outcomes.empty()) return std::nullopt;
  const auto kernel = std::find_if(c.outcomes.begin(), c.outcomes.end(),
                                   [](const oracle::Outcome& o) { return o.kernel.has_value(); });
  if (kernel == c.outcomes.end()) return std::nullopt;
  const oracle::Outcome& ours = c.outcomes.front();
  oracle::kernel::CReproducerInput in;
  in.title = f.title;
  // The program the kernel engine loaded (kernel_entry_program.hpp).
  const Result<vm::Program> as_loaded = oracle::program_from_entry(c.program);
  if (!as_loaded) return std::nullopt;
  in.program = as_loaded->slots;
  in.memory = c.input.memory;
  in.maps = oracle::request_maps(*as_loaded);
  std::copy_n(ours.regs.begin(), in.expected_regs.size(), in.expected_regs.begin());
  in.expected_memory = ours.memory;
  if (has_field(f, "plain.")) {
    in.compare_regs = has_field(f, "plain.r0") ? 1 : 0;
    in.compare_memory = has_field(f, "plain.memory");
  } else {
    const auto instrumentation = instrumentation_of(*kernel->kernel);
    if (!instrumentation) return std::nullopt;
    in.full_state = true;
    in.instrumentation = *instrumentation;
    in.compare_regs = 0;
    for (int r = 0; r < 10; ++r) {
      const std::string name = "r" + std::to_string(r);
      const bool differs = std::any_of(f.differences.begin(), f.differences.end(),
                                       [&](const oracle::Difference& d) { return d.field == name; });
      if (differs) in.compare_regs = static_cast<uint16_t>(in.compare_regs | (1u << r));
    }
    in.compare_memory = has_field(f, "memory");
  }
  // Maps: read back and compared in the form the finding came from, unless
  // our run left a pointer in a map value (a kernel address there, never
  // equal to ours: the campaign does not compare those contents either).
  if (ours.maps_observed && ours.maps.size() == in.maps.size() && !kernel->kernel->pointer_stored_in_map) {
    in.compare_maps = true;
    for (const vm::MapSnapshot& snapshot : ours.maps) {
      std::vector<oracle::kernel::KernelMapEntry> entries;
      for (const vm::MapEntry& e : snapshot.entries)
        entries.push_back({e.key, e.value});
      in.expected_maps.push_back(std::move(entries));
    }
  }
  auto source = oracle::kernel::c_reproducer(in);
  if (!source) return std::nullopt;
  return *source;
}

}  // namespace

bool is_guest_failure(const oracle::Outcome& outcome) {
  return outcome.kernel && outcome.kernel->verdict == oracle::kernel::KernelVerdict::Failed &&
         outcome.kernel->log.rfind(kGuestFailurePrefix, 0) == 0;
}

std::string guest_failure_kind(const oracle::Outcome& outcome) {
  if (!is_guest_failure(outcome)) return "";
  const std::string rest = outcome.kernel->log.substr(kGuestFailurePrefix.size());
  std::string word = rest.substr(0, rest.find(':'));
  for (char& ch : word) {
    if (ch == ' ' || ch == '/') ch = '-';
  }
  return word;
}

std::string abandoned_reason(const oracle::Outcome& outcome) {
  namespace guest = oracle::kernel::guest;
  if (!outcome.kernel || outcome.kernel->verdict != oracle::kernel::KernelVerdict::Failed) return "";
  const std::string& log = outcome.kernel->log;
  if (log.rfind(guest::kAbandonedPrefix, 0) != 0) return "";
  const std::string rest = log.substr(guest::kAbandonedPrefix.size());
  return rest.substr(0, rest.find(':'));
}

std::string guest_record_of(const oracle::Outcome& outcome) {
  if (!is_guest_failure(outcome)) return "";
  const std::string& log = outcome.kernel->log;
  const std::size_t at = log.rfind(kRecordMarker);
  if (at == std::string::npos) return "";
  std::string path = log.substr(at + kRecordMarker.size());
  return path.rfind("NOT WRITTEN", 0) == 0 ? "" : path;
}

json outcome_json(const oracle::Outcome& o) {
  json j;
  j["engine"] = o.engine;
  j["loaded"] = o.loaded;
  if (!o.loaded) j["load_error"] = o.load_error;
  if (o.loaded) {
    json regs = json::array();
    for (uint64_t r : o.regs)
      regs.push_back(hex_u64(r));
    j["regs"] = std::move(regs);
    j["error"] = error_json(o.error);
    if (!o.kernel) j["instructions"] = o.instructions;
  }
  j["memory"] = hex_compact(o.memory);
  if (o.kernel) {
    const oracle::KernelOutcome& k = *o.kernel;
    json kj;
    kj["verdict"] = oracle::to_string(k.verdict);
    kj["release"] = k.release;
    if (k.errno_value != 0) kj["errno"] = oracle::kernel::errno_name(k.errno_value);
    if (!k.rejection_reason.empty()) kj["rejection_reason"] = k.rejection_reason;
    kj["regs_valid"] = k.regs_valid;
    kj["retval"] = k.retval;
    kj["duration_ns"] = k.duration_ns;
    kj["uninitialized_stack_read"] = k.uninitialized_stack_read;
    kj["pointer_bits_exposed"] = k.pointer_bits_exposed;
    if (!k.log.empty()) kj["log"] = k.log;
    j["kernel"] = std::move(kj);
  }
  return j;
}

std::string kernel_repro_command(const std::string& finding_dir, const KernelCase& c,
                                 const std::vector<std::string>& engines) {
  return "bpfdiff repro " + finding_dir + "/case.data --budget " +
         std::to_string(c.input.limits.instruction_budget) + " --engines " + join(engines);
}

Result<std::string> write_kernel_finding(const std::string& findings_dir, const KernelFindingRecord& finding,
                                         const KernelCase& c, const std::vector<std::string>& engines) {
  const fs::path final_dir = fs::path(findings_dir) / finding.signature;
  std::error_code ec;
  if (fs::exists(final_dir, ec)) return final_dir.string();
  auto staged = StagedDirectory::create(findings_dir, finding.signature);
  if (!staged) return staged.error();

  json j;
  j["signature"] = finding.signature;
  j["kind"] = finding.kind;
  j["title"] = finding.title;
  json diffs = json::array();
  for (const oracle::Difference& d : finding.differences)
    diffs.push_back({{"field", d.field}, {"left", d.left}, {"right", d.right}});
  j["differences"] = std::move(diffs);
  j["seed"] = c.seed;
  j["iteration"] = c.iteration;
  if (!c.origin.empty()) j["generator"] = c.origin;
  j["engines"] = engines;
  json releases = json::object();
  for (const oracle::Outcome& o : c.outcomes) {
    if (o.kernel) releases[o.engine] = o.kernel->release;
  }
  j["kernel_releases"] = std::move(releases);
  j["budget"] = c.input.limits.instruction_budget;
  j["repro"] = kernel_repro_command(final_dir.string(), c, engines);
  const std::optional<std::string> c_source = reproducer_source(finding, c);
  if (c_source) j["c_reproducer"] = "cc -O1 -o repro " + (final_dir / "repro.c").string() + " && ./repro";
  if (!finding.guest_record.empty()) j["guest_record"] = finding.guest_record;
  if (finding.reproduced) j["reproduced"] = *finding.reproduced;
  if (!finding.bug_class.empty()) j["class"] = finding.bug_class;
  if (finding.known_bug) {
    j["known_kernel_bug"] = {{"id", finding.known_bug->id},
                             {"what", finding.known_bug->what},
                             {"fixed_by", finding.known_bug->fixed_by},
                             {"evidence", "corpus/kernel-findings/" + std::string(finding.known_bug->id)}};
  }
  if (finding.original_program) {
    j["minimized"] = {{"original_slots", finding.original_program->slots.size()},
                      {"slots", c.program.slots.size()},
                      {"tests", finding.minimize_tests},
                      {"original", (final_dir / "original.data").string()}};
  }
  if (auto w = staged->write_text("finding.json", j.dump(2) + "\n"); !w) return w.error();

  if (auto w = staged->write_text("case.data", data_test(c.program, c.input.memory, c)); !w) return w.error();
  const std::vector<uint8_t> raw = fuzz::join_raw_input(isa::encode_slots(c.program.slots), c.input.memory);
  if (auto w = staged->write_file("input.raw", raw); !w) return w.error();
  if (c_source) {
    if (auto w = staged->write_text("repro.c", *c_source); !w) return w.error();
  }
  if (finding.original_program) {
    const std::vector<uint8_t> original =
        fuzz::join_raw_input(isa::encode_slots(finding.original_program->slots), finding.original_memory);
    if (auto w = staged->write_file("original.raw", original); !w) return w.error();
    // With its maps, like case.data, but expecting nothing: the reference's
    // outcome on the original program is not at hand.
    const std::string text = case_data_text(*finding.original_program, finding.original_memory,
                                            c.input.limits.instruction_budget, run_setup_of(c.input));
    if (auto w = staged->write_text("original.data", text); !w) return w.error();
  }

  json outcomes = json::array();
  for (const oracle::Outcome& o : c.outcomes)
    outcomes.push_back(outcome_json(o));
  if (auto w = staged->write_text("outcomes.json", outcomes.dump(2) + "\n"); !w) return w.error();
  for (const oracle::Outcome& o : c.outcomes) {
    if (!o.kernel || o.kernel->log.empty()) continue;
    if (auto w = staged->write_text("kernel-" + o.engine + ".log", o.kernel->log); !w) return w.error();
  }
  if (!finding.guest_record.empty()) {
    const fs::path console = fs::path(finding.guest_record) / "console.log";
    if (fs::exists(console, ec)) {
      if (auto w = staged->write_text("console.log", read_text(console)); !w) return w.error();
    }
  }
  // false: the same signature was published meanwhile by someone else, a repeat.
  if (auto published = staged->publish(); !published) return published.error();
  return final_dir.string();
}

}  // namespace bpfdiff::cli
