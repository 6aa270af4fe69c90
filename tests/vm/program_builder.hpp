#pragma once
// Test support: build programs slot by slot from table forms (never from
// opcode numbers or assembly text) and run them on the interpreter in one call.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "tests/vm/engine_under_test.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/isa/encode.hpp"
#include "vm/isa/table.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/error.hpp"

namespace bpfdiff::vm {
// Lets gtest print ExecError values in failure messages.
inline void PrintTo(const ExecError& e, std::ostream* os) {
  *os << "{" << to_string(e.kind) << ", pc " << e.pc << ", address 0x" << std::hex << e.address << std::dec
      << ", size " << e.size << "}";
}
}  // namespace bpfdiff::vm

namespace bpfdiff::test {

using isa::Form;

inline constexpr uint64_t kAll = ~uint64_t{0};
inline constexpr uint64_t kMin64 = uint64_t{1} << 63;
inline constexpr uint64_t kMax64 = kMin64 - 1;
inline constexpr uint64_t kStackBase = uint64_t{1} << 32;
inline constexpr uint64_t kStackTop = kStackBase + 8 * 512;  // r10 at entry with the default depth of 8
inline constexpr uint64_t kInputBase = uint64_t{2} << 32;
inline constexpr uint64_t kCodeBase = uint64_t{4} << 32;

// Two's complement of a small magnitude, for readable negative expectations.
constexpr uint64_t neg(uint64_t v) {
  return uint64_t{0} - v;
}

class ProgramBuilder {
 public:
  ProgramBuilder& op(Form form, int dst = 0, int src = 0, int off = 0, int32_t imm = 0) {
    slots_.push_back(isa::encode(form, static_cast<uint8_t>(dst), static_cast<uint8_t>(src),
                                 static_cast<int16_t>(off), imm));
    return *this;
  }
  ProgramBuilder& raw(const isa::RawInsn& insn) {
    slots_.push_back(insn);
    return *this;
  }
  ProgramBuilder& mov(int dst, int32_t imm) { return op(Form::mov_imm, dst, 0, 0, imm); }
  ProgramBuilder& movr(int dst, int src) { return op(Form::mov_reg, dst, src); }
  ProgramBuilder& lddw(int dst, uint64_t value) {
    for (const auto& s : isa::encode_lddw_imm64(static_cast<uint8_t>(dst), value))
      slots_.push_back(s);
    return *this;
  }
  // lddw rX, code(target): `target` is an absolute slot index.
  ProgramBuilder& lddw_code(int dst, uint32_t target) {
    for (const auto& s : isa::encode_lddw(Form::lddw_code, static_cast<uint8_t>(dst), rel(target), 0)) {
      slots_.push_back(s);
    }
    return *this;
  }
  // lddw rX, map_idx(map): the handle of Program::maps[map].
  ProgramBuilder& lddw_map(int dst, uint32_t map) {
    for (const auto& s :
         isa::encode_lddw(Form::lddw_map_idx, static_cast<uint8_t>(dst), static_cast<int32_t>(map), 0))
      slots_.push_back(s);
    return *this;
  }
  // lddw rX, map_value(map, offset): the address of that byte of the map's first value.
  ProgramBuilder& lddw_map_value(int dst, uint32_t map, uint32_t offset) {
    for (const auto& s : isa::encode_lddw(Form::lddw_map_value, static_cast<uint8_t>(dst),
                                          static_cast<int32_t>(map), static_cast<int32_t>(offset)))
      slots_.push_back(s);
    return *this;
  }
  // call local with an absolute target.
  ProgramBuilder& call_local(uint32_t target) { return op(Form::call_local, 0, 0, 0, rel(target)); }
  ProgramBuilder& call_helper(int32_t id) { return op(Form::call_helper, 0, 0, 0, id); }
  // Conditional or unconditional jump (off-encoded) to an absolute target.
  ProgramBuilder& jump(Form form, int dst, int src_or_0, int32_t imm, uint32_t target) {
    return op(form, dst, src_or_0, rel(target), imm);
  }
  ProgramBuilder& exit() { return op(Form::exit); }

  // Relative offset from the instruction about to be added to `target`.
  int32_t rel(uint32_t target) const { return static_cast<int32_t>(target) - static_cast<int32_t>(pc()) - 1; }
  uint32_t pc() const { return static_cast<uint32_t>(slots_.size()); }

  vm::Program program() const {
    vm::Program p;
    p.slots = slots_;
    return p;
  }
  const std::vector<isa::RawInsn>& slots() const { return slots_; }

 private:
  std::vector<isa::RawInsn> slots_;
};

inline const vm::HelperRegistry& no_helpers() {
  static const vm::HelperRegistry registry;
  return registry;
}

struct RunOptions {
  vm::ExecLimits limits{};
  const vm::HelperRegistry* helpers = nullptr;
  vm::RunMode mode = vm::RunMode::Memory;
};

// Validates and runs; a validation failure is a test failure and yields an
// all-0xdead result so dependent expectations fail loudly too.
inline vm::RunResult run(const vm::Program& program, std::span<uint8_t> memory = {},
                         const RunOptions& opt = {}) {
  const vm::HelperRegistry& helpers = opt.helpers != nullptr ? *opt.helpers : no_helpers();
  auto loaded = vm::validate(program, helpers);
  if (!loaded.ok()) {
    ADD_FAILURE() << "validation failed: " << loaded.error().message;
    vm::RunResult r;
    r.regs.fill(0xdeaddeaddeaddeadULL);
    return r;
  }
  EngineUnderTest engine(*loaded, helpers, opt.limits);
  return engine.run(vm::RunInput{opt.mode, memory});
}

inline vm::RunResult run(const ProgramBuilder& b, std::span<uint8_t> memory = {},
                         const RunOptions& opt = {}) {
  return run(b.program(), memory, opt);
}

// Runs to a successful end and returns r0.
inline uint64_t run_r0(const ProgramBuilder& b, std::span<uint8_t> memory = {}, const RunOptions& opt = {}) {
  const vm::RunResult r = run(b, memory, opt);
  EXPECT_TRUE(r.ok()) << vm::describe(r.error);
  return r.r0();
}

// The validator's message for `b`, or "" if it validates.
inline std::string validation_error(const vm::Program& p, const vm::HelperRegistry& helpers = no_helpers()) {
  auto loaded = vm::validate(p, helpers);
  return loaded.ok() ? std::string() : loaded.error().message;
}
inline std::string validation_error(const ProgramBuilder& b,
                                    const vm::HelperRegistry& helpers = no_helpers()) {
  return validation_error(b.program(), helpers);
}

inline std::string form_name(Form f) {
  return std::string(isa::info(f).name);
}

}  // namespace bpfdiff::test
