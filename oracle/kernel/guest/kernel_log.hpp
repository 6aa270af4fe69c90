#pragma once
// Reading the guest kernel's log (its serial console): the reports that say
// the kernel itself went wrong while it ran a program -- a sanitizer report
// (KASAN, UBSAN), a WARN, a BUG or oops, a lockup, a panic. Any of them is a
// finding about the kernel, recorded with the program that was running.
#include <optional>
#include <string>
#include <string_view>

namespace bpfdiff::oracle::kernel::guest {

enum class KernelReportKind {
  Panic,    // "Kernel panic - not syncing"
  Kasan,    // "BUG: KASAN: ..." (checked before BUG:, which it also matches)
  Ubsan,    // "UBSAN: ..."
  Oops,     // "BUG: ...", "kernel BUG at", "Oops:", "general protection fault"
  Warning,  // "WARNING: ..." (WARN, WARN_ON, WARN_ONCE)
  Lockup,   // soft or hard lockups, RCU stalls
  Trace,    // a "Call Trace:" with none of the above (some other report)
};
const char* kernel_report_name(KernelReportKind kind);

struct KernelReport {
  KernelReportKind kind = KernelReportKind::Trace;
  // The report's first line without the printk time stamp, e.g.
  // "WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:18987 do_check+0x1e/0x20".
  std::string title;
};

// The most severe report in `log`, or nullopt for a clean log. Severity, so
// that a KASAN report followed by the panic it caused is named by its cause:
// KASAN, UBSAN, BUG/oops, WARNING, lockup, panic, other trace. Lines are
// matched at their start (after an optional "[   12.345678] " time stamp),
// so a program's own output or a verifier message quoting these words in the
// middle of a line is not a report.
std::optional<KernelReport> scan_kernel_log(std::string_view log);

}  // namespace bpfdiff::oracle::kernel::guest
