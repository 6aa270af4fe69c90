// A program whose entry is not pc 0 reaches the kernel as a loader would load
// it from its object: the entry function at pc 0, then the subprograms it
// calls (calls relocated), nothing else of the object. The layout is checked
// without a kernel; where bpf() works, kernel-host runs such programs and
// agrees with our interpreter.
#include "oracle/kernel_entry_program.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "oracle/engine.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_host_engine.hpp"
#include "oracle/run/input.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::oracle {
namespace {

vm::Program assembled(const std::string& text) {
  auto p = text::assemble(text);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : vm::Program{};
}

// Two programs in one object: "other" (pc 0) calls `unused`; "second"
// (pc 2) reads memory[0] and calls `twice`, which calls `add_one`:
// 2 * x + 1 + 100, so 107 for x = 3.
vm::Program object() {
  vm::Program p = assembled(
      "call local unused\n"  // 0: other
      "exit\n"               // 1
      "ldxb r1, [r1+0]\n"    // 2: second
      "call local twice\n"   // 3
      "add r0, 100\n"        // 4
      "jeq r0, 0, -4\n"      // 5: back to pc 2, inside the function (never taken)
      "exit\n"               // 6
      "twice:\n"
      "mov r6, r1\n"          // 7
      "call local add_one\n"  // 8
      "add r0, r6\n"          // 9
      "exit\n"                // 10
      "unused:\n"
      "mov r0, 55\n"  // 11
      "exit\n"        // 12
      "add_one:\n"
      "mov r0, r1\n"  // 13
      "add r0, 1\n"   // 14
      "exit\n");      // 15
  p.entries = {{"other", 0}, {"second", 2}};
  p.entry = 2;
  return p;
}

TEST(KernelEntryProgram, AnEntryAtZeroIsTheProgramItself) {
  vm::Program p = object();
  p.entry = 0;
  auto out = program_from_entry(p);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->slots, p.slots);
}

TEST(KernelEntryProgram, TheEntryComesFirstThenTheSubprogramsItReachesWithCallsRelocated) {
  const vm::Program p = object();
  auto out = program_from_entry(p);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->entry, 0u);
  ASSERT_EQ(out->entries.size(), 1u);
  EXPECT_EQ(out->entries[0].name, "second");
  EXPECT_EQ(out->entries[0].slot, 0u);
  // second (5 slots), twice (4), add_one (3); neither "other" nor `unused`.
  std::vector<isa::RawInsn> expected;
  expected.insert(expected.end(), p.slots.begin() + 2, p.slots.begin() + 7);
  expected.insert(expected.end(), p.slots.begin() + 7, p.slots.begin() + 11);
  expected.insert(expected.end(), p.slots.begin() + 13, p.slots.begin() + 16);
  expected[1].imm = 5 - 1 - 1;  // call twice, now at pc 5
  expected[6].imm = 9 - 6 - 1;  // call add_one, now at pc 9
  EXPECT_EQ(out->slots, expected);
  // The same result as the object run from its entry, on our interpreter.
  EngineInput input;
  input.memory = {3, 0, 0, 0};
  auto interp = std::move(make_engine("interp")).value();
  const Outcome from_entry = interp->run(p, input);
  const Outcome loaded = interp->run(*out, input);
  ASSERT_TRUE(from_entry.ok() && loaded.ok()) << from_entry.load_error << loaded.load_error;
  EXPECT_EQ(from_entry.regs[0], 107u);
  EXPECT_EQ(loaded.regs[0], 107u);
}

TEST(KernelEntryProgram, AnotherProgramInAProgramArrayFollowsAsABlockOfItsOwn) {
  vm::Program p = object();
  vm::MapDef progs;
  progs.name = "progs";
  progs.type = vm::MapType::ProgArray;
  progs.value_size = 4;
  progs.max_entries = 2;
  progs.prog_entries = {{1, 2}};
  p.maps = {progs};
  auto out = program_from_entry(p);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->maps[0].prog_entries, (std::vector<std::pair<uint32_t, uint32_t>>{{1, 0}}));
  EXPECT_EQ(out->slots.size(), 12u) << "second, twice, add_one";
  // "other" (pc 0) in the array too: its block (other, unused) follows the
  // entry's, and the array names its start.
  p.maps[0].prog_entries = {{0, 0}, {1, 2}};
  out = program_from_entry(p);
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->slots.size(), 16u);
  EXPECT_EQ(out->maps[0].prog_entries, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 12}, {1, 0}}));
  EXPECT_EQ(out->slots[12], (isa::RawInsn{0x85, 0, 1, 0, 1})) << "other's call of unused, relocated to pc 14";
  EXPECT_EQ(out->slots[14], p.slots[11]);
  // The same object from its first program: "second" becomes a block after
  // it, with its own copies of twice and add_one.
  p.entry = 0;
  out = program_from_entry(p);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->slots.size(), 16u);
  EXPECT_EQ(out->maps[0].prog_entries, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 0}, {1, 4}}));
}

TEST(KernelEntryProgram, AJumpOutOfTheEntryFunctionIsRefusedWithTheReason) {
  vm::Program p = object();
  p.slots[5].off = -6;  // jeq to pc 0, in "other"
  auto out = program_from_entry(p);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("pc 5: a jump to pc 0 leaves its function (pc 2..6)"), std::string::npos)
      << out.error().message;
}

TEST(KernelEntryProgram, CodeAfterAFunctionsLastReachableInstructionIsLeftOut) {
  // `f` ends at pc 6; pc 7 and 8 are a function no one refers to (as the ELF
  // loader leaves a callback whose referring section it blanked).
  vm::Program p = assembled(
      "mov r0, 9\nexit\n"                         // 0, 1: another program
      "call local f\nadd r0, 1\nexit\n"           // 2..4: the entry
      "f:\nmov r0, 1\nexit\nmov r0, 2\nexit\n");  // 5..8
  p.entry = 2;
  auto out = program_from_entry(p);
  ASSERT_TRUE(out.ok()) << out.error().message;
  std::vector<isa::RawInsn> expected(p.slots.begin() + 2, p.slots.begin() + 7);
  EXPECT_EQ(out->slots, expected);
}

class KernelEntryProgramOnHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto probe = kernel_host_available(); !probe) GTEST_SKIP() << probe.error().message;
    kernel_ = std::move(make_engine(kKernelHostEngine)).value();
    interp_ = std::move(make_engine("interp")).value();
  }
  std::unique_ptr<Engine> kernel_;
  std::unique_ptr<Engine> interp_;
};

TEST_F(KernelEntryProgramOnHost, TheSecondProgramOfAnObjectRunsInTheKernelAndAgrees) {
  const vm::Program p = object();
  EngineInput input;
  input.memory = {3, 0, 0, 0};
  const Outcome ours = interp_->run(p, input);
  const Outcome kernel = kernel_->run(p, input);
  ASSERT_TRUE(kernel.kernel.has_value());
  ASSERT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Accepted) << kernel.kernel->log;
  EXPECT_EQ(kernel.regs[0], 107u);
  EXPECT_EQ(kernel.kernel->plain.verdict, kernel::KernelVerdict::Accepted) << kernel.kernel->plain.log;
  EXPECT_EQ(kernel.kernel->plain.retval, 107u);
  const KernelComparison c = compare_with_kernel(ours, kernel);
  EXPECT_EQ(c.kind, KernelAgreement::Agree) << c.reason;
}

// multi.o's programs run from their entries (the ELF loader blanks the
// sections the chosen program cannot reach, which leaves `callback` as dead
// code after `twice`: left out, as a loader would).
TEST_F(KernelEntryProgramOnHost, ProgramsOfAnElfObjectRunInTheKernelAndAgree) {
  for (const auto& [name, r0] :
       {std::pair{"first", 42u}, std::pair{"second", 6u}, std::pair{"third", 106u}}) {
    cli::ElfChoice choice;
    choice.program = name;
    auto in =
        cli::load_program_file(BPFDIFF_CORPUS_DIR "/fuzz/elf_loader/multi.o", default_helpers(), choice);
    ASSERT_TRUE(in.ok()) << in.error().message;
    ASSERT_NE(in->program.entry, 0u) << name;
    EngineInput input;
    input.memory.assign(8, 0);
    const Outcome ours = interp_->run(in->program, input);
    const Outcome kernel = kernel_->run(in->program, input);
    ASSERT_TRUE(kernel.kernel.has_value());
    ASSERT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Accepted) << name << ": " << kernel.kernel->log;
    EXPECT_EQ(ours.regs[0], r0) << name;
    EXPECT_EQ(kernel.regs[0], r0) << name;
    const KernelComparison c = compare_with_kernel(ours, kernel);
    EXPECT_EQ(c.kind, KernelAgreement::Agree) << name << ": " << c.reason;
  }
}

// tail_calls.o: entry -> stage_one -> stage_two by tail calls through its
// program array, each a program of the object: in the kernel each is a
// program of its own in the array.
TEST_F(KernelEntryProgramOnHost, AnObjectsProgramsTailCallEachOtherInTheKernel) {
  cli::ElfChoice choice;
  choice.program = "entry";
  auto in =
      cli::load_program_file(BPFDIFF_CORPUS_DIR "/fuzz/elf_loader/tail_calls.o", default_helpers(), choice);
  ASSERT_TRUE(in.ok()) << in.error().message;
  EngineInput input;
  input.memory.assign(8, 0);
  const Outcome ours = interp_->run(in->program, input);
  const Outcome kernel = kernel_->run(in->program, input);
  ASSERT_TRUE(kernel.kernel.has_value());
  ASSERT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Accepted) << kernel.kernel->log;
  EXPECT_EQ(ours.regs[0], 0x16u);
  EXPECT_EQ(kernel.regs[0], 0x16u);
  EXPECT_EQ(compare_with_kernel(ours, kernel).kind, KernelAgreement::Agree);
}

TEST_F(KernelEntryProgramOnHost, WhatCannotBeExpressedIsUnsupportedWithTheReason) {
  vm::Program p = object();
  p.slots[5].off = -6;  // a jump out of the entry function
  EngineInput input;
  input.memory = {3, 0, 0, 0};
  const Outcome kernel = kernel_->run(p, input);
  ASSERT_TRUE(kernel.kernel.has_value());
  EXPECT_EQ(kernel.kernel->verdict, kernel::KernelVerdict::Unsupported);
  EXPECT_NE(kernel.kernel->log.find("the entry point is pc 2: pc 5: a jump to pc 0 leaves its function"),
            std::string::npos)
      << kernel.kernel->log;
  EXPECT_FALSE(compare_with_kernel(interp_->run(p, input), kernel).finding());
}

}  // namespace
}  // namespace bpfdiff::oracle
