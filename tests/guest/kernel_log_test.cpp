// The kernel-log scanner: which console lines are kernel reports, which
// report names a finding when several appear, and what is not a report.
#include "oracle/kernel/guest/kernel_log.hpp"
#include "oracle/kernel/guest/kmsg_reader.hpp"

#include <gtest/gtest.h>

namespace bpfdiff::oracle::kernel::guest {
namespace {

TEST(KernelLog, ACleanBootLogHasNoReport) {
  EXPECT_FALSE(scan_kernel_log(""));
  EXPECT_FALSE(
      scan_kernel_log("[    0.000000] Linux version 6.12.118-bpfdiff\n"
                      "[    0.812345] Run /init as init process\n"
                      "bpfdiff-agent: serving on the virtio port (kernel 6.12.118)\n"));
}

TEST(KernelLog, EachKindOfReportIsRecognisedWithItsTitle) {
  struct Case {
    const char* line;
    KernelReportKind kind;
    const char* title;
  };
  const Case cases[] = {
      {"[    1.5] BUG: KASAN: slab-out-of-bounds in bpf_prog_x+0x1/0x2", KernelReportKind::Kasan,
       "BUG: KASAN: slab-out-of-bounds in bpf_prog_x+0x1/0x2"},
      {"[    1.5] UBSAN: shift-out-of-bounds in kernel/bpf/core.c:1234:5", KernelReportKind::Ubsan,
       "UBSAN: shift-out-of-bounds in kernel/bpf/core.c:1234:5"},
      {"[    1.5] BUG: unable to handle page fault for address: ffffc90000000000", KernelReportKind::Oops,
       "BUG: unable to handle page fault for address: ffffc90000000000"},
      {"[    1.5] kernel BUG at kernel/bpf/verifier.c:100!", KernelReportKind::Oops,
       "kernel BUG at kernel/bpf/verifier.c:100!"},
      {"Oops: general protection fault, probably for non-canonical address", KernelReportKind::Oops,
       "Oops: general protection fault, probably for non-canonical address"},
      {"[    1.5] WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:18987 do_check+0x1e/0x20",
       KernelReportKind::Warning, "WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:18987 do_check+0x1e/0x20"},
      {"[   30.1] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [init:1]", KernelReportKind::Lockup,
       "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [init:1]"},
      {"[   30.1] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", KernelReportKind::Lockup,
       "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"},
      {"[    9.9] Kernel panic - not syncing: Fatal exception", KernelReportKind::Panic,
       "Kernel panic - not syncing: Fatal exception"},
      {"[    9.9] Call Trace:", KernelReportKind::Trace, "Call Trace:"},
  };
  for (const Case& c : cases) {
    const auto report = scan_kernel_log(std::string("[    0.1] booting\n") + c.line + "\r\n[    9.9] more\n");
    ASSERT_TRUE(report) << c.line;
    EXPECT_EQ(report->kind, c.kind) << c.line;
    EXPECT_EQ(report->title, c.title) << c.line;
  }
}

TEST(KernelLog, TheCauseNamesTheFindingNotTheWarningOrPanicThatFollows) {
  const std::string log =
      "[    1.0] WARNING: CPU: 0 PID: 1 at mm/slub.c:1 free+0x1/0x2\n"
      "[    1.1] BUG: KASAN: use-after-free in bpf_map_x+0x5/0x9\n"
      "[    1.2] Call Trace:\n"
      "[    1.3] Kernel panic - not syncing: KASAN: panic_on_warn set ...\n";
  const auto report = scan_kernel_log(log);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->kind, KernelReportKind::Kasan);
  EXPECT_EQ(report->title, "BUG: KASAN: use-after-free in bpf_map_x+0x5/0x9");
}

TEST(KernelLog, OfTwoReportsOfOneKindTheFirstNamesTheFinding) {
  const auto report = scan_kernel_log(
      "WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:1 a+0x1/0x2\n"
      "WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:2 b+0x1/0x2\n");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->title, "WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:1 a+0x1/0x2");
}

TEST(KernelLog, TheWordsInsideALineAreNotAReport) {
  // A verifier message or the agent's own output quoting report words: not
  // at the start of a line, so not the kernel reporting itself.
  EXPECT_FALSE(
      scan_kernel_log("bpfdiff-agent: program printed WARNING: not a kernel report\n"
                      "[    1.0] audit: saw \"BUG: KASAN:\" in a string\n"
                      "[    1.0] the Oops: word mid-line\n"));
  // A time stamp that is not closed does not hide the line either way.
  EXPECT_FALSE(scan_kernel_log("[    1.0 WARNING: broken stamp\n"));
}

TEST(KernelLog, LevelPrefixesOfKmsgDumpsAreSkipped) {
  const auto report = scan_kernel_log("<4>[    1.0] WARNING: CPU: 0 PID: 1 at x.c:1 f+0x1/0x2\n");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->kind, KernelReportKind::Warning);
}

TEST(KernelLog, KindNamesAreTheFindingWords) {
  EXPECT_STREQ(kernel_report_name(KernelReportKind::Kasan), "kasan");
  EXPECT_STREQ(kernel_report_name(KernelReportKind::Ubsan), "ubsan");
  EXPECT_STREQ(kernel_report_name(KernelReportKind::Oops), "oops");
  EXPECT_STREQ(kernel_report_name(KernelReportKind::Warning), "warning");
  EXPECT_STREQ(kernel_report_name(KernelReportKind::Lockup), "lockup");
  EXPECT_STREQ(kernel_report_name(KernelReportKind::Panic), "panic");
  EXPECT_STREQ(kernel_report_name(KernelReportKind::Trace), "trace");
}

// The agent reads /dev/kmsg records and hands them on as console lines, so
// the same scanner finds the same reports in them.
TEST(KernelMessages, AKmsgRecordBecomesTheConsoleLineTheScannerKnows) {
  const std::string line = console_line_of_kmsg_record(
      "4,1234,3141592,-;WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:18987 do_check+0x1e/0x20\n"
      " SUBSYSTEM=cpu\n DEVICE=+cpu:0\n");
  EXPECT_EQ(line,
            "[    3.141592] WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:18987 do_check+0x1e/0x20\n");
  const auto report = scan_kernel_log(line);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->kind, KernelReportKind::Warning);
  EXPECT_EQ(report->title, "WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:18987 do_check+0x1e/0x20");
  // Without the optional fourth header field, and at a large time stamp.
  EXPECT_EQ(console_line_of_kmsg_record("3,7,1234567890123;BUG: KASAN: use-after-free in f+0x1/0x2\n"),
            "[1234567.890123] BUG: KASAN: use-after-free in f+0x1/0x2\n");
}

// The console shows warnings and worse (loglevel=5); so do the messages.
TEST(KernelMessages, RecordsTheConsoleWouldNotShowAreLeftOut) {
  EXPECT_EQ(console_line_of_kmsg_record("6,12,1000000,-;Call Trace: printed at info level\n"), "");
  EXPECT_EQ(console_line_of_kmsg_record("5,13,1000000,-;a notice\n"), "");
  EXPECT_EQ(console_line_of_kmsg_record("12,14,1000000,-;user facility, level 4\n"),
            "[    1.000000] user facility, level 4\n");
}

TEST(KernelMessages, MalformedRecordsAreDropped) {
  EXPECT_EQ(console_line_of_kmsg_record(""), "");
  EXPECT_EQ(console_line_of_kmsg_record("no header here"), "");
  EXPECT_EQ(console_line_of_kmsg_record("4,12;too few fields"), "");
  EXPECT_EQ(console_line_of_kmsg_record("4,12,notanumber,-;text"), "");
  EXPECT_EQ(console_line_of_kmsg_record("x,12,1000,-;text"), "");
}

TEST(KernelMessages, AReaderWithoutKmsgSaysWhy) {
  auto reader = KernelMessageReader::open("/nonexistent/kmsg");
  ASSERT_FALSE(reader);
  EXPECT_NE(reader.error().message.find("/nonexistent/kmsg"), std::string::npos) << reader.error().message;
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
