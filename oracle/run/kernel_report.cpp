#include "oracle/run/kernel_report.hpp"

#include <algorithm>

#include "oracle/kernel/bpf_syscall.hpp"
#include "oracle/kernel/full_state_rewrite.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_outcome.hpp"
#include "oracle/known_kernel_bugs.hpp"

namespace bpfdiff::cli {
namespace {

// The last `n` lines of `text`, with a note of how many came before.
std::string tail_lines(const std::string& text, std::size_t n) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string::npos ? text.size() : nl;
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty())
    lines.pop_back();
  std::string out;
  const std::size_t first = lines.size() > n ? lines.size() - n : 0;
  if (first > 0) out += "    (" + std::to_string(first) + " earlier lines left out)\n";
  for (std::size_t i = first; i < lines.size(); ++i)
    out += "    " + lines[i] + "\n";
  return out;
}

}  // namespace

bool has_kernel_outcome(const std::vector<oracle::Outcome>& outcomes) {
  return std::any_of(outcomes.begin(), outcomes.end(),
                     [](const oracle::Outcome& o) { return o.kernel.has_value(); });
}

std::string kernel_verdict_line(const oracle::Outcome& o) {
  if (!o.kernel) return "";
  const oracle::KernelOutcome& k = *o.kernel;
  std::string s =
      o.engine + " (" + (k.release.empty() ? "kernel ?" : k.release) + "): " + oracle::to_string(k.verdict);
  switch (k.verdict) {
    case oracle::kernel::KernelVerdict::Accepted:
      if (k.regs_valid != 0x3ff) s += ", r1..r5 not all exported after a call";
      if (k.uninitialized_stack_read) s += ", reads stack it never wrote";
      break;
    case oracle::kernel::KernelVerdict::Rejected:
      s += ", " + oracle::kernel::errno_name(k.errno_value) + ", " + k.rejection_reason;
      break;
    case oracle::kernel::KernelVerdict::Unsupported:
    case oracle::kernel::KernelVerdict::Failed:
      s += ": " + k.log;
      break;
  }
  return s;
}

std::string format_kernel_section(const oracle::Outcome& reference,
                                  const std::vector<oracle::Outcome>& outcomes, std::size_t log_lines) {
  std::string out;
  for (const oracle::Outcome& o : outcomes) {
    if (!o.kernel) continue;
    out += "  " + kernel_verdict_line(o) + "\n";
    const oracle::kernel::PlainRun& plain = o.kernel->plain;
    out += "    unmodified program: " + std::string(oracle::to_string(plain.verdict));
    if (plain.verdict == oracle::kernel::KernelVerdict::Accepted) {
      out += ", r0 low 32 bits " + std::to_string(plain.retval);
    }
    if (plain.verdict == oracle::kernel::KernelVerdict::Rejected) {
      out += ", " + oracle::kernel::errno_name(plain.errno_value);
    }
    if (plain.verdict == oracle::kernel::KernelVerdict::Failed) out += ": " + plain.log;
    if (!o.kernel->instrumentation.empty()) out += "; full-state wrapper " + o.kernel->instrumentation;
    out += "\n";
    if (!reference.kernel) {
      const oracle::KernelComparison c = oracle::compare_with_kernel(reference, o);
      out += "  " + reference.engine + " vs " + o.engine +
             " under the kernel rules: " + oracle::to_string(c.kind);
      out += c.reason.empty() ? "\n" : " (" + c.reason + ")\n";
    }
    if (o.kernel->verdict == oracle::kernel::KernelVerdict::Rejected && !o.kernel->log.empty()) {
      out += "  verifier log of the full-state program (entry-function pc p is p + " +
             std::to_string(o.kernel->body_offset) + " there):\n" + tail_lines(o.kernel->log, log_lines);
    }
  }
  return out;
}

std::string format_known_kernel_bugs(const vm::Program& program, const oracle::EngineInput& input,
                                     const std::vector<oracle::Outcome>& outcomes) {
  std::string out;
  for (const oracle::Outcome& o : outcomes) {
    const oracle::KnownKernelBug* bug = oracle::explain_with_known_bug(program, input, o);
    if (bug == nullptr) continue;
    const std::string id(bug->id);
    out += "  " + o.engine + " (" + o.kernel->release + "): known kernel bug " + id;
    if (bug->fixed_major != 0) {
      out += ", fixed in Linux " + std::to_string(bug->fixed_major) + "." + std::to_string(bug->fixed_minor) +
             " (" + std::string(bug->fixed_by) + ")\n";
    } else {
      out += ", " + std::string(bug->fixed_by) + "\n";
    }
    out += "    " + std::string(bug->what) + "\n";
    out += "    reproducer and evidence: corpus/kernel-findings/" + id + "/README.md\n";
  }
  return out;
}

}  // namespace bpfdiff::cli
