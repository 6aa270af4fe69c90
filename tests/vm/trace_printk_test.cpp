// bpf_trace_printk: the kernel's format subset, its -EINVAL cases, and its
// memory arguments (the format and %s strings) checked like every access.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/vm/map_support.hpp"
#include "vm/runtime/printk.hpp"

namespace bpfdiff::test {
namespace {

using vm::ErrorKind;
using vm::ExecError;

// Map 1's value: a string for %s.
const uint64_t kString = vm::map_values_base(1);

struct Printk {
  vm::RunResult result;
  std::vector<std::string> trace;
};

// bpf_trace_printk(fmt, fmt_size, a, b, c) with fmt (NUL added) in .rodata;
// fmt_pointer overrides the format's address when nonzero.
Printk printk(const std::string& fmt, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0, int32_t size = -1,
              uint64_t fmt_pointer = 0, const std::string& str = std::string("world\0", 6)) {
  const std::string with_nul = fmt + '\0';
  ProgramBuilder p;
  if (fmt_pointer != 0) {
    p.lddw(1, fmt_pointer);
  } else {
    p.lddw_map_value(1, 0, 0);
  }
  p.mov(2, size >= 0 ? size : static_cast<int32_t>(with_nul.size()));
  p.lddw(3, a).lddw(4, b).lddw(5, c).call_helper(6).exit();
  MapProgram prog(with_maps(p, {data_map(".rodata", with_nul), data_map("str", str)}));
  Printk out;
  out.result = prog.run();
  out.trace = prog.trace();
  return out;
}

std::string printed(const std::string& fmt, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0) {
  const Printk p = printk(fmt, a, b, c);
  EXPECT_TRUE(p.result.ok()) << vm::describe(p.result.error);
  if (p.trace.size() != 1) {
    ADD_FAILURE() << fmt << ": " << p.trace.size() << " trace entries";
    return "";
  }
  EXPECT_EQ(p.result.r0(), p.trace[0].size()) << fmt;  // the helper returns the message length
  return p.trace[0];
}

TEST(TracePrintk, IntConversionsUseTheLow32Bits) {
  EXPECT_EQ(printed("a=%d b=%u c=%x\n", neg(5), 0x100000007, 255), "a=-5 b=7 c=ff\n");
  EXPECT_EQ(printed("%i %X", 0xffffffff, 0xabc), "-1 ABC");
}

TEST(TracePrintk, LongConversionsUseAll64Bits) {
  EXPECT_EQ(printed("%ld %lu %lx", neg(5), uint64_t{1} << 40, 0xdeadbeefcafe),
            "-5 1099511627776 deadbeefcafe");
  EXPECT_EQ(printed("%lld %llu %llx", kMin64, kAll, kAll),
            "-9223372036854775808 18446744073709551615 ffffffffffffffff");
  EXPECT_EQ(printed("%li %lli", neg(1), 3), "-1 3");
}

TEST(TracePrintk, CharsStringsPointersAndPercent) {
  EXPECT_EQ(printed("%c%c%c", 'a', 'b', 0x163), "abc");
  EXPECT_EQ(printed("hello %s!", kString), "hello world!");
  EXPECT_EQ(printed("%p", 0x1234), "0x1234");
  EXPECT_EQ(printed("100%%"), "100%");
}

TEST(TracePrintk, FlagsAndWidths) {
  EXPECT_EQ(printed("%5d|%-4u|%05x", 42, 7, 0xab), "   42|7   |000ab");
  EXPECT_EQ(printed("%+d|% d", 3, 4), "+3| 4");
}

TEST(TracePrintk, FormatsTheKernelRejectsReturnEinval) {
  for (const std::string& fmt :
       {std::string("%f"), std::string("%d%d%d%d"), std::string("%pK"), std::string("%lllu"),
        std::string("%"), std::string("a\x01"), std::string("%1234d")}) {
    const Printk p = printk(fmt, 1, 2, 3);
    ASSERT_TRUE(p.result.ok()) << fmt << ": " << vm::describe(p.result.error);
    EXPECT_EQ(p.result.r0(), neg_errno(vm::kEINVAL)) << fmt;
    EXPECT_TRUE(p.trace.empty()) << fmt;
  }
}

TEST(TracePrintk, FormatWithoutNulOrSizeZeroReturnsEinval) {
  EXPECT_EQ(printk("abc", 0, 0, 0, 3).result.r0(), neg_errno(vm::kEINVAL));  // the NUL is the 4th byte
  EXPECT_EQ(printk("abc", 0, 0, 0, 0).result.r0(), neg_errno(vm::kEINVAL));
  EXPECT_EQ(printk(std::string("ab\0cd", 5), 0, 0, 0, 3).trace,
            (std::vector<std::string>{"ab"}));  // ends at the first NUL
}

TEST(TracePrintk, UnreadableFormatFailsTheHelper) {
  EXPECT_EQ(printk("x", 0, 0, 0, -1, 0x10).result.error, (ExecError{ErrorKind::HelperFailed, 9, 0x10, 2}));
  // fmt_size past the format's map value.
  EXPECT_EQ(printk("x", 0, 0, 0, 100).result.error,
            (ExecError{ErrorKind::HelperFailed, 9, vm::map_values_base(0), 100}));
}

TEST(TracePrintk, UnreadableStringFailsTheHelperAtTheFirstBadByte) {
  EXPECT_EQ(printk("%s", 8).result.error, (ExecError{ErrorKind::HelperFailed, 9, 8, 1}));
  // A string without a NUL runs off the end of its map value.
  EXPECT_EQ(printk("%s", kString, 0, 0, -1, 0, "abc").result.error,
            (ExecError{ErrorKind::HelperFailed, 9, kString + 3, 1}));
}

TEST(TracePrintk, LongStringsAreCutAtTheKernelsLimit) {
  const std::string s(700, 'z');
  const Printk p = printk("%s", kString, 0, 0, -1, 0, s + '\0');
  ASSERT_TRUE(p.result.ok()) << vm::describe(p.result.error);
  ASSERT_EQ(p.trace.size(), 1u);
  EXPECT_EQ(p.trace[0], std::string(vm::kMaxPrintkString, 'z'));
}

TEST(TracePrintk, EachCallIsOneEntryAndEachRunStartsEmpty) {
  ProgramBuilder b;
  b.lddw_map_value(1, 0, 0).mov(2, 3).mov(3, 0).call_helper(6).mov(3, 1).call_helper(6).exit();
  MapProgram p(with_maps(b, {data_map(".rodata", std::string("%d\0", 3))}));
  ASSERT_TRUE(p.run().ok());
  EXPECT_EQ(p.trace(), (std::vector<std::string>{"0", "1"}));
  ASSERT_TRUE(p.run().ok());
  EXPECT_EQ(p.trace().size(), 2u);
}

}  // namespace
}  // namespace bpfdiff::test
