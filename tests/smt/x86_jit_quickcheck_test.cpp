// The x86 semantics against the CPU on exactly the instructions the JIT
// emits: every ALU, END and JMP form is compiled on each option set and a
// spread of register assignments and immediates, and every distinct
// instruction of that code is run natively and compared with its Z3 model.
// This is what makes the JIT proofs (jit_proof_test) a statement about the
// CPU and not only about our reading of the SDM.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "oracle/smt/bpf_model.hpp"
#include "oracle/smt/jit_cases.hpp"
#include "oracle/smt/jit_snippet.hpp"
#include "oracle/smt/x86/quickcheck.hpp"

namespace bpfdiff::oracle::smt {
namespace {

constexpr unsigned kStates = 16;

TEST(X86JitQuickcheck, EveryInstructionTheJitEmitsAgreesWithTheCpu) {
  const std::vector<RegisterAssignment> assignments = {{4, 3}, {0, 3}, {4, 4}, {5, 9}, {1, 2}};
  // Blinded immediates differ on every compilation; the unblinded option
  // sets already show each shape once per register, so blinding is
  // compiled for one immediate class to keep its mov/xor pairs.
  std::map<std::string, x86::Instruction> distinct;  // by bytes
  for (isa::Form form : covered_forms()) {
    for (const jit::JitOptions& options : jit::all_option_sets()) {
      const std::vector<ImmClass> imms =
          options.constant_blinding ? std::vector<ImmClass>{imm_classes()[4]} : imm_classes();
      for (const JitCase& c : cases_for(form, assignments, imms, {options})) {
        auto snippet = compile_snippet(c);
        ASSERT_TRUE(snippet.ok()) << snippet.error().message;
        for (const x86::Instruction& insn : snippet->insns) {
          // Division keeps rax or rdx on the native stack, which the harness
          // itself runs on; push and pop are checked by X86Semantics tests.
          if (insn.mnemonic == ZYDIS_MNEMONIC_PUSH || insn.mnemonic == ZYDIS_MNEMONIC_POP) continue;
          distinct.emplace(std::string(insn.bytes.begin(), insn.bytes.end()), insn);
        }
      }
    }
  }
  unsigned compared = 0, divide_errors = 0;
  uint64_t seed = 1;
  for (const auto& [bytes, insn] : distinct) {
    const auto states = x86::states_for(insn, kStates, seed++);
    auto report = x86::quickcheck(insn, states);
    ASSERT_TRUE(report.ok()) << report.error().message;
    compared += report->compared;
    divide_errors += report->divide_errors;
    for (const std::string& m : report->mismatches)
      ADD_FAILURE() << m;
  }
  std::printf("%zu distinct instructions, %u native runs compared, %u #DE states\n", distinct.size(),
              compared, divide_errors);
  EXPECT_GT(distinct.size(), 100u);
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
