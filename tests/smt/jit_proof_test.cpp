// JIT translation validation on a representative subset (the full matrix
// runs through `bpfdiff smt check`): every ALU, END and JMP form, sampled
// register assignments, every immediate shape class and every option set.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "oracle/smt/bpf_model.hpp"
#include "oracle/smt/jit_cases.hpp"
#include "oracle/smt/jit_proof.hpp"

namespace bpfdiff::oracle::smt {
namespace {

TEST(JitProof, ProvesEveryFormOnSampledAssignments) {
  const std::vector<RegisterAssignment> assignments = {{4, 3}, {0, 0}};
  unsigned proofs = 0;
  double slowest = 0;
  std::string slowest_case;
  for (isa::Form form : covered_forms()) {
    for (const JitCase& c : cases_for(form, assignments, imm_classes(), jit::all_option_sets())) {
      const JitProof p = prove_jit_case(c);
      ++proofs;
      if (p.seconds > slowest) {
        slowest = p.seconds;
        slowest_case = describe(c);
      }
      EXPECT_EQ(p.verdict, JitProof::Verdict::Proved) << describe(c) << ": " << p.detail << "\n"
                                                      << p.data_test;
    }
  }
  std::printf("%u proofs, slowest %.3f s: %s\n", proofs, slowest, slowest_case.c_str());
}

}  // namespace
}  // namespace bpfdiff::oracle::smt
