#include "oracle/kernel_outcome.hpp"

#include <gtest/gtest.h>

#include <cstring>

#include "vm/runtime/memory.hpp"

namespace bpfdiff::oracle {
namespace {

constexpr uint64_t kMemBase = 0xffffc90000a41000;
constexpr uint64_t kFrameBase = 0xffffc90000c27e00;
constexpr uint64_t kOurInput = uint64_t{2} << 32;
constexpr uint64_t kOurStackTop = (uint64_t{1} << 32) + 8 * 512;

KernelBases bases() {
  return {kMemBase, 16, kFrameBase, kOurStackTop, {}};
}

TEST(TranslatePointer, MemoryAndStackPointersBecomeRegionAndOffset) {
  EXPECT_EQ(translate_pointer(kMemBase, bases()), kOurInput);
  EXPECT_EQ(translate_pointer(kMemBase + 16, bases()), kOurInput + 16) << "one past the end";
  EXPECT_EQ(translate_pointer(kMemBase - 8, bases()), kOurInput - 8);
  EXPECT_EQ(translate_pointer(kFrameBase, bases()), kOurStackTop);
  EXPECT_EQ(translate_pointer(kFrameBase - 24, bases()), kOurStackTop - 24);
}

TEST(TranslatePointer, ScalarsStayAsTheyAre) {
  for (uint64_t v : {uint64_t{0}, uint64_t{42}, ~uint64_t{0}, uint64_t{0xffff888000000000}})
    EXPECT_EQ(translate_pointer(v, bases()), v);
  KernelBases no_memory = bases();
  no_memory.memory_base = 0;
  EXPECT_EQ(translate_pointer(8, no_memory), 8u) << "a zero base never matches small values";
}

TEST(TranslatePointer, TheNearerBaseWinsWhenBothAreClose) {
  // Kernel stacks and mmappable arrays both live in vmalloc space.
  KernelBases close = bases();
  close.frame_base = kMemBase + 0x1000;
  EXPECT_EQ(translate_pointer(kMemBase + 4, close), kOurInput + 4);
  EXPECT_EQ(translate_pointer(kMemBase + 0x1000 - 8, close), kOurStackTop - 8);
}

TEST(OutcomeFromResponse, AcceptedRejectedUnsupported) {
  kernel::KernelResponse r;
  r.verdict = kernel::KernelVerdict::Accepted;
  r.regs = {5, kMemBase + 1, 16, 0, 0, 0, kFrameBase - 8, 0, 0, 0};
  r.memory = std::vector<uint8_t>(16, 1);
  r.memory_base = kMemBase;
  r.frame_base = kFrameBase;
  r.kernel_release = "6.18.44";
  Outcome o = outcome_from_response("kernel-host", r, vm::ExecLimits{});
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.regs[0], 5u);
  EXPECT_EQ(o.regs[1], kOurInput + 1);
  EXPECT_EQ(o.regs[6], kOurStackTop - 8);
  EXPECT_EQ(o.regs[10], kOurStackTop);
  EXPECT_EQ(o.memory, r.memory);
  ASSERT_TRUE(o.kernel);

  // A pointer the program stored into the memory is translated there too.
  const uint64_t stored = kMemBase + 4;
  std::memcpy(r.memory.data() + 3, &stored, 8);
  o = outcome_from_response("kernel-host", r, vm::ExecLimits{});
  uint64_t ours = 0;
  std::memcpy(&ours, o.memory.data() + 3, 8);
  EXPECT_EQ(ours, kOurInput + 4);
  EXPECT_EQ(o.memory[0], 1);
  EXPECT_EQ(o.memory[15], 1);

  // A scalar's bytes read from a shifted window may look like a vmalloc
  // address within 2^29 of a base; only windows close to an object are
  // pointers (-55 at [8] reads 0xffffc90000000000 from [3]).
  std::vector<uint8_t> scalar_memory(16, 0);
  const uint64_t minus55 = static_cast<uint64_t>(-55);
  std::memcpy(scalar_memory.data() + 8, &minus55, 8);
  r.memory = scalar_memory;
  o = outcome_from_response("kernel-host", r, vm::ExecLimits{});
  EXPECT_EQ(o.memory, scalar_memory);
  r.memory = std::vector<uint8_t>(16, 1);
  EXPECT_EQ(o.kernel->release, "6.18.44");

  r.verdict = kernel::KernelVerdict::Rejected;
  r.errno_value = 13;
  r.log = "0: (79) r0 = *(u64 *)(r3 +0)\nR3 invalid mem access 'scalar'\nprocessed 1 insns\n";
  o = outcome_from_response("kernel-host", r, vm::ExecLimits{});
  EXPECT_FALSE(o.loaded);
  EXPECT_EQ(o.load_error, "kernel verifier rejected it (EACCES): R3 invalid mem access 'scalar'");
  EXPECT_EQ(o.kernel->rejection_reason, "R# invalid mem access 'scalar'");
  EXPECT_EQ(o.kernel->log, r.log);

  r.verdict = kernel::KernelVerdict::Unsupported;
  r.log = "pc 0: helper calls ...";
  o = outcome_from_response("kernel-host", r, vm::ExecLimits{});
  EXPECT_FALSE(o.loaded);
  EXPECT_EQ(o.load_error, "not expressible on the kernel: pc 0: helper calls ...");
}

}  // namespace
}  // namespace bpfdiff::oracle
