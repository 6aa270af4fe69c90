#include "oracle/kernel/guest/kernel_log.hpp"

#include <array>

namespace bpfdiff::oracle::kernel::guest {
namespace {

struct Marker {
  std::string_view prefix;  // at the start of a line, after the time stamp
  KernelReportKind kind;
  int rank;  // lower is more telling
};

// Ordered so that the first matching prefix of a line decides its kind:
// "BUG: KASAN:" before "BUG:".
constexpr std::array<Marker, 13> kMarkers = {{
    {"BUG: KASAN:", KernelReportKind::Kasan, 0},
    {"UBSAN:", KernelReportKind::Ubsan, 1},
    {"BUG:", KernelReportKind::Oops, 2},
    {"kernel BUG at", KernelReportKind::Oops, 2},
    {"Oops:", KernelReportKind::Oops, 2},
    {"general protection fault", KernelReportKind::Oops, 2},
    {"WARNING:", KernelReportKind::Warning, 3},
    {"watchdog: BUG: soft lockup", KernelReportKind::Lockup, 4},
    {"Watchdog detected hard LOCKUP", KernelReportKind::Lockup, 4},
    {"rcu: INFO: rcu_sched detected stalls", KernelReportKind::Lockup, 4},
    {"rcu: INFO: rcu_preempt detected stalls", KernelReportKind::Lockup, 4},
    {"Kernel panic - not syncing", KernelReportKind::Panic, 5},
    {"Call Trace:", KernelReportKind::Trace, 6},
}};

// Strips "[    1.234567] " (and a leading "<4>" level, as /dev/kmsg-style
// dumps have) from a console line.
std::string_view without_prefixes(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() >= 3 && line[0] == '<' && line[2] == '>') line.remove_prefix(3);
  if (!line.empty() && line.front() == '[') {
    const std::size_t close = line.find(']');
    if (close != std::string_view::npos) {
      line.remove_prefix(close + 1);
      while (!line.empty() && line.front() == ' ')
        line.remove_prefix(1);
    }
  }
  return line;
}

}  // namespace

const char* kernel_report_name(KernelReportKind kind) {
  switch (kind) {
    case KernelReportKind::Panic:
      return "panic";
    case KernelReportKind::Kasan:
      return "kasan";
    case KernelReportKind::Ubsan:
      return "ubsan";
    case KernelReportKind::Oops:
      return "oops";
    case KernelReportKind::Warning:
      return "warning";
    case KernelReportKind::Lockup:
      return "lockup";
    case KernelReportKind::Trace:
      return "trace";
  }
  return "unknown";
}

std::optional<KernelReport> scan_kernel_log(std::string_view log) {
  std::optional<KernelReport> best;
  int best_rank = 1 << 30;
  while (!log.empty()) {
    const std::size_t end = log.find('\n');
    const std::string_view raw = log.substr(0, end);
    log = end == std::string_view::npos ? std::string_view() : log.substr(end + 1);
    const std::string_view line = without_prefixes(raw);
    for (const Marker& m : kMarkers) {
      if (line.substr(0, m.prefix.size()) != m.prefix) continue;
      // The first report of the most telling kind names the finding.
      if (m.rank < best_rank) {
        best_rank = m.rank;
        best = KernelReport{m.kind, std::string(line)};
      }
      break;
    }
  }
  return best;
}

}  // namespace bpfdiff::oracle::kernel::guest
