#include "fuzz/kernel_campaign/kernel_finding.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/gate/gate.hpp"
#include "fuzz/raw_input.hpp"
#include "oracle/kernel/bpf_syscall.hpp"
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

Result<void> write_text(const fs::path& path, const std::string& text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  return write_file_atomically(path.string(), {p, text.size()});
}

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
std::string data_test(const KernelCase& c) {
  text::DataTest test;
  test.asm_source = text::disassemble(c.program.slots);
  test.memory = c.input.memory;
  const oracle::Outcome& reference = c.outcomes.front();
  if (!reference.loaded) {
    test.error = reference.load_error;
  } else if (!reference.ok()) {
    test.error = vm::describe(reference.error);
  } else {
    test.result = reference.regs[0];
  }
  return "# budget " + std::to_string(c.input.limits.instruction_budget) + "\n" +
         text::format_data_test(test);
}

}  // namespace

bool is_guest_failure(const oracle::Outcome& outcome) {
  return outcome.kernel && outcome.kernel->verdict == oracle::kernel::KernelVerdict::Failed &&
         outcome.kernel->log.rfind(kGuestFailurePrefix, 0) == 0;
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
  return "bpfdiff repro " + finding_dir + "/input.raw --fuzz-input --budget " +
         std::to_string(c.input.limits.instruction_budget) + " --engines " + join(engines);
}

Result<std::string> write_kernel_finding(const std::string& findings_dir, const KernelFindingRecord& finding,
                                         const KernelCase& c, const std::vector<std::string>& engines) {
  const fs::path final_dir = fs::path(findings_dir) / finding.signature;
  std::error_code ec;
  if (fs::exists(final_dir, ec)) return final_dir.string();
  fs::create_directories(findings_dir, ec);
  if (ec) return make_error(findings_dir + ": " + ec.message());
  const fs::path tmp =
      fs::path(findings_dir) / (".tmp-" + finding.signature + "-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return make_error(tmp.string() + ": " + ec.message());
  const auto fail = [&](const Error& e) -> Result<std::string> {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return e;
  };

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
  j["engines"] = engines;
  json releases = json::object();
  for (const oracle::Outcome& o : c.outcomes) {
    if (o.kernel) releases[o.engine] = o.kernel->release;
  }
  j["kernel_releases"] = std::move(releases);
  j["budget"] = c.input.limits.instruction_budget;
  j["repro"] = kernel_repro_command(final_dir.string(), c, engines);
  if (!finding.guest_record.empty()) j["guest_record"] = finding.guest_record;
  if (auto w = write_text(tmp / "finding.json", j.dump(2) + "\n"); !w) return fail(w.error());

  if (auto w = write_text(tmp / "case.data", data_test(c)); !w) return fail(w.error());
  const std::vector<uint8_t> raw = fuzz::join_raw_input(isa::encode_slots(c.program.slots), c.input.memory);
  if (auto w = write_file_atomically((tmp / "input.raw").string(), raw); !w) return fail(w.error());

  json outcomes = json::array();
  for (const oracle::Outcome& o : c.outcomes)
    outcomes.push_back(outcome_json(o));
  if (auto w = write_text(tmp / "outcomes.json", outcomes.dump(2) + "\n"); !w) return fail(w.error());
  for (const oracle::Outcome& o : c.outcomes) {
    if (!o.kernel || o.kernel->log.empty()) continue;
    if (auto w = write_text(tmp / ("kernel-" + o.engine + ".log"), o.kernel->log); !w) return fail(w.error());
  }
  if (!finding.guest_record.empty()) {
    const fs::path console = fs::path(finding.guest_record) / "console.log";
    if (fs::exists(console, ec)) {
      if (auto w = write_text(tmp / "console.log", read_text(console)); !w) return fail(w.error());
    }
  }

  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    const int err = errno;
    if (fs::exists(final_dir, ec)) {  // written meanwhile by someone else: a repeat
      (void)fail(Error{""});
      return final_dir.string();
    }
    return fail(Error{final_dir.string() + ": rename: " + std::strerror(err)});
  }
  const int dfd = ::open(findings_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return final_dir.string();
}

}  // namespace bpfdiff::cli
