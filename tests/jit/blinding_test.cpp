// Constant blinding is reproducible: the key comes from the seed, so the same
// program, options and seed always give the same machine code, and a
// blinded run can be replayed exactly from its seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "vm/isa/encode.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/program/validate.hpp"

namespace bpfdiff::jit {
namespace {

constexpr int32_t kSpray = 0x3c90c390;  // bytes a JIT-spraying program would plant

std::vector<uint8_t> compile_code(const vm::LoadedProgram& loaded, const vm::HelperRegistry& helpers,
                                  JitOptions options) {
  auto compiled = JitProgram::compile(loaded, helpers, {}, options);
  EXPECT_TRUE(compiled.ok()) << compiled.error().message;
  if (!compiled.ok()) return {};
  EXPECT_EQ((*compiled)->run({}).r0(), static_cast<uint64_t>(kSpray) ^ 0x5a5a5a5a);
  const auto code = (*compiled)->code();
  return {code.begin(), code.end()};
}

bool contains_immediate(const std::vector<uint8_t>& code) {
  const auto imm = static_cast<uint32_t>(kSpray);
  const uint8_t bytes[4] = {static_cast<uint8_t>(imm), static_cast<uint8_t>(imm >> 8),
                            static_cast<uint8_t>(imm >> 16), static_cast<uint8_t>(imm >> 24)};
  return std::search(code.begin(), code.end(), std::begin(bytes), std::end(bytes)) != code.end();
}

class Blinding : public ::testing::Test {
 protected:
  void SetUp() override {
    vm::Program p;
    p.slots = {isa::encode(isa::Form::mov32_imm, 0, 0, 0, kSpray),
               isa::encode(isa::Form::xor32_imm, 0, 0, 0, 0x5a5a5a5a), isa::encode(isa::Form::exit)};
    auto loaded = vm::validate(p, helpers_);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    loaded_ = std::make_unique<vm::LoadedProgram>(std::move(loaded).value());
  }
  vm::HelperRegistry helpers_;
  std::unique_ptr<vm::LoadedProgram> loaded_;
};

TEST_F(Blinding, TheSameSeedGivesTheSameCode) {
  JitOptions o;
  o.constant_blinding = true;
  o.blinding_seed = 1234;
  EXPECT_EQ(compile_code(*loaded_, helpers_, o), compile_code(*loaded_, helpers_, o));
}

TEST_F(Blinding, AnotherSeedGivesAnotherKey) {
  JitOptions a;
  a.constant_blinding = true;
  a.blinding_seed = 1;
  JitOptions b = a;
  b.blinding_seed = 2;
  EXPECT_NE(compile_code(*loaded_, helpers_, a), compile_code(*loaded_, helpers_, b));
  EXPECT_NE(blinding_key(1), blinding_key(2));
}

TEST_F(Blinding, BlindedCodeHoldsNoProgramImmediateWhateverTheSeed) {
  JitOptions plain;
  EXPECT_TRUE(contains_immediate(compile_code(*loaded_, helpers_, plain)));
  for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{0xffffffffffffffff}}) {
    JitOptions o;
    o.constant_blinding = true;
    o.blinding_seed = seed;
    EXPECT_FALSE(contains_immediate(compile_code(*loaded_, helpers_, o))) << seed;
  }
}

TEST(BlindingKey, BothHalvesAreNonzeroForEverySeedTried) {
  for (uint64_t seed = 0; seed < 100000; ++seed) {
    const uint64_t k = blinding_key(seed);
    ASSERT_NE(static_cast<uint32_t>(k), 0u) << seed;
    ASSERT_NE(k >> 32, 0u) << seed;
  }
}

}  // namespace
}  // namespace bpfdiff::jit
