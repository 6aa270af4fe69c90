// JIT memory hygiene, checked against the kernel's view of the process
// (/proc/self/maps): code pages are never writable and executable at once,
// each code block has an inaccessible guard page on both sides, the slack
// after the code is INT3, and the pool reuses slots without new mappings.
#include "vm/jit/exec_memory.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "vm/isa/encode.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::jit {
namespace {

struct Mapping {
  uintptr_t start = 0;
  uintptr_t end = 0;
  std::string perms;
};

std::vector<Mapping> read_maps() {
  std::vector<Mapping> out;
  std::ifstream in("/proc/self/maps");
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    std::string range;
    Mapping m;
    s >> range >> m.perms;
    const auto dash = range.find('-');
    m.start = std::stoull(range.substr(0, dash), nullptr, 16);
    m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    out.push_back(m);
  }
  return out;
}

// Permissions of the page holding `addr` ("" when unmapped).
std::string perms_at(uintptr_t addr) {
  for (const Mapping& m : read_maps()) {
    if (addr >= m.start && addr < m.end) return m.perms.substr(0, 3);
  }
  return "";
}

const uintptr_t kPage = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));

TEST(ExecMemory, CodeIsReadExecuteWithGuardPagesOnBothSides) {
  const std::vector<uint8_t> code = {0x90, 0xc3};  // nop; ret
  auto mem = ExecMemory::create(code);
  ASSERT_TRUE(mem.ok()) << mem.error().message;
  const auto at = reinterpret_cast<uintptr_t>(mem->code());
  EXPECT_EQ(at % kPage, 0u);
  EXPECT_EQ(perms_at(at), "r-x");
  EXPECT_EQ(perms_at(at - 1), "---") << "guard page before the code";
  EXPECT_EQ(perms_at(at + kPage), "---") << "guard page after the code";
  EXPECT_EQ(mem->mapped_size(), 3 * kPage);
}

TEST(ExecMemory, SlackAfterTheCodeIsInt3) {
  const std::vector<uint8_t> code(100, 0x90);
  auto mem = ExecMemory::create(code);
  ASSERT_TRUE(mem.ok());
  for (std::size_t i = code.size(); i < kPage; ++i)
    ASSERT_EQ(mem->code()[i], 0xCC) << i;
}

TEST(ExecMemory, FreedCodeIsOverwrittenWithInt3AndItsSlotReused) {
  const uint8_t* at = nullptr;
  {
    auto mem = ExecMemory::create(std::vector<uint8_t>{0x90, 0x90, 0xc3});
    ASSERT_TRUE(mem.ok());
    ASSERT_TRUE(mem->pooled());
    at = mem->code();
    EXPECT_EQ(perms_at(reinterpret_cast<uintptr_t>(at)), "r-x");
  }
  // Stale code is never reachable: the freed slot holds INT3 only.
  for (std::size_t i = 0; i < kPage; ++i)
    ASSERT_EQ(at[i], 0xCC) << i;
  auto again = ExecMemory::create(std::vector<uint8_t>{0xc3});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->code(), at) << "the most recently freed slot of the size is handed out first";
}

TEST(ExecMemory, WarmPoolCompilesWithoutNewMappings) {
  std::vector<ExecMemory> warm;
  for (int i = 0; i < 4; ++i)
    warm.push_back(std::move(ExecMemory::create(std::vector<uint8_t>(100, 0x90))).value());
  warm.clear();
  const std::size_t chunks = ExecPool::instance().chunks_created();
  for (int i = 0; i < 1000; ++i) {
    auto mem = ExecMemory::create(std::vector<uint8_t>(100, 0x90));
    ASSERT_TRUE(mem.ok());
  }
  EXPECT_EQ(ExecPool::instance().chunks_created(), chunks);
}

TEST(ExecMemory, EverySizeClassHasGuardPagesAndInt3Slack) {
  for (std::size_t bytes :
       {std::size_t{1}, kPage + 1, 5 * kPage, ExecPool::kMaxPooledBytes, ExecPool::kMaxPooledBytes + 1}) {
    std::vector<uint8_t> code(bytes, 0x90);
    auto mem = ExecMemory::create(code);
    ASSERT_TRUE(mem.ok()) << mem.error().message;
    EXPECT_EQ(mem->pooled(), bytes <= ExecPool::kMaxPooledBytes) << bytes;
    const auto at = reinterpret_cast<uintptr_t>(mem->code());
    const std::size_t pages = (mem->mapped_size() / kPage) - 2;
    EXPECT_GE(pages * kPage, bytes);
    EXPECT_EQ(perms_at(at), "r-x") << bytes;
    EXPECT_EQ(perms_at(at + pages * kPage - 1), "r-x") << bytes;
    EXPECT_EQ(perms_at(at - 1), "---") << "guard page before, " << bytes << " bytes";
    EXPECT_EQ(perms_at(at + pages * kPage), "---") << "guard page after, " << bytes << " bytes";
    EXPECT_EQ(mem->code()[pages * kPage - 1], bytes == pages * kPage ? 0x90 : 0xCC) << bytes;
  }
}

TEST(ExecMemory, AForkedChildFreeingInheritedCodeLeavesTheParentsCodeIntact) {
  auto mem =
      ExecMemory::create(std::vector<uint8_t>{0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3});  // mov eax, 42; ret
  ASSERT_TRUE(mem.ok());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ExecMemory inherited = std::move(mem).value();
    inherited = ExecMemory();  // frees the inherited slot in the child only
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  using Fn = int (*)();
  EXPECT_EQ(reinterpret_cast<Fn>(const_cast<uint8_t*>(mem->code()))(), 42);
}

TEST(ExecMemory, NoMappingOfACompiledProgramIsWritableAndExecutable) {
  vm::Program p;
  p.slots = {isa::encode(isa::Form::mov_imm, 0, 0, 0, 7), isa::encode(isa::Form::exit)};
  vm::HelperRegistry helpers;
  auto loaded = vm::validate(p, helpers);
  ASSERT_TRUE(loaded.ok());
  auto compiled = JitProgram::compile(*loaded, helpers);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  EXPECT_EQ((*compiled)->run({}).r0(), 7u);
  const auto code = reinterpret_cast<uintptr_t>((*compiled)->code().data());
  EXPECT_EQ(perms_at(code), "r-x");
  for (const Mapping& m : read_maps()) {
    const bool w = m.perms[1] == 'w';
    const bool x = m.perms[2] == 'x';
    EXPECT_FALSE(w && x) << std::hex << m.start << "-" << m.end << " is " << m.perms;
  }
}

}  // namespace
}  // namespace bpfdiff::jit
