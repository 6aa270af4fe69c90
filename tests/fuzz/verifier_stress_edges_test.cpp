// The edge-branch pattern of the verifier-stress generator
// (fuzz/verifier_stress_edges.cpp): branches a verifier can almost decide,
// both of whose paths run, and among them the shapes of the planted kernel
// bugs the planted-bug benchmark missed before the pattern existed
// (corpus/kernel-bugs/triggers/).
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <vector>

#include "fuzz/differential.hpp"
#include "fuzz/verifier_stress.hpp"
#include "oracle/engine.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::fuzz {
namespace {

struct Decoded {
  isa::Form form;
  isa::RawInsn insn;
  uint64_t imm64 = 0;  // lddw's value
};

std::vector<Decoded> decode(const vm::Program& p) {
  std::vector<Decoded> out;
  for (std::size_t i = 0; i < p.slots.size(); ++i) {
    const std::optional<isa::Form> f = isa::find_form(p.slots[i]);
    if (!f) continue;
    Decoded d{*f, p.slots[i]};
    if (isa::info(*f).slots == 2 && i + 1 < p.slots.size()) {
      d.imm64 =
          static_cast<uint32_t>(p.slots[i].imm) | (uint64_t{static_cast<uint32_t>(p.slots[i + 1].imm)} << 32);
      ++i;
    }
    out.push_back(d);
  }
  return out;
}

bool is_conditional_jump(isa::Form f) {
  const isa::Semantics& s = isa::info(f).sem;
  return s.family == isa::Family::Jump && s.cond != isa::JmpCond::Always;
}

// An edge branch: `if ... goto T; stw [r6+off], m; ja +1; T: stw [r6+off], m ^ 0x5a5a`.
struct EdgeBranch {
  std::size_t jump;  // index in the decoded program
  int16_t off;
  int32_t fallthrough_word;
};

std::vector<EdgeBranch> edge_branches(const std::vector<Decoded>& d) {
  std::vector<EdgeBranch> out;
  for (std::size_t i = 0; i + 3 < d.size(); ++i) {
    if (!is_conditional_jump(d[i].form) || d[i].insn.off != 2) continue;
    const Decoded &a = d[i + 1], &j = d[i + 2], &b = d[i + 3];
    if (a.form != isa::Form::stw || j.form != isa::Form::ja || b.form != isa::Form::stw) continue;
    if (a.insn.dst != 6 || b.insn.dst != 6 || a.insn.off != b.insn.off || (a.insn.imm ^ b.insn.imm) != 0x5a5a)
      continue;
    out.push_back({i, a.insn.off, a.insn.imm});
  }
  return out;
}

// Without deliberate doubt (no access the guards let through), so every
// program runs to its exit.
GeneratedCase from_seed(uint64_t seed) {
  ByteSource src(seed);
  VerifierStressOptions opt;
  opt.doubt_rate = 0.0;
  return generate_verifier_stress(src, opt);
}

// A branch the verifier could decide one way on a correct analysis would hide
// nothing: the thresholds sit where values really fall on both sides, so both
// paths run across programs (seen in the word each path writes, when no later
// pattern writes there too).
TEST(VerifierStressEdges, BothPathsOfEdgeBranchesRun) {
  auto interp = std::move(oracle::make_engine("interp")).value();
  int fallthrough = 0, taken = 0, branches = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    const GeneratedCase c = from_seed(seed);
    const std::vector<Decoded> d = decode(c.program);
    const std::vector<EdgeBranch> edges = edge_branches(d);
    if (edges.empty()) continue;
    const oracle::Outcome o = interp->run(c.program, engine_input(c));
    ASSERT_TRUE(o.ok()) << "seed " << seed << ": " << vm::describe(o.error);
    for (const EdgeBranch& e : edges) {
      ++branches;
      int32_t word = 0;
      ASSERT_LE(static_cast<std::size_t>(e.off) + 4, o.memory.size());
      std::memcpy(&word, o.memory.data() + e.off, 4);
      fallthrough += word == e.fallthrough_word ? 1 : 0;
      taken += word == (e.fallthrough_word ^ 0x5a5a) ? 1 : 0;
    }
  }
  RecordProperty("branches", branches);
  RecordProperty("fallthrough", fallthrough);
  RecordProperty("taken", taken);
  EXPECT_GE(branches, 150);
  EXPECT_GE(fallthrough, branches / 5);
  EXPECT_GE(taken, branches / 5);
}

// The trigger of corpus/kernel-bugs/alu32-arsh-tnum-width (`w s>>= 31`, then
// a 64-bit compare with 1) and of mov32-imm-sign-extended (`w = -K`, then a
// 64-bit compare with the sign-extended -K): a verifier with either slip
// decides those branches wrongly.
TEST(VerifierStressEdges, TheShapesOfPlantedBugsTheBenchMissedAreGenerated) {
  int arsh32_then_small = 0, mov32_then_sext = 0;
  for (uint64_t seed = 0; seed < 4000; ++seed) {
    const std::vector<Decoded> d = decode(from_seed(seed).program);
    for (std::size_t i = 0; i + 1 < d.size(); ++i) {
      const isa::Semantics& next = isa::info(d[i + 1].form).sem;
      const bool jump64_on_dst = is_conditional_jump(d[i + 1].form) && next.width == isa::Width::W64 &&
                                 next.source == isa::Source::Imm && d[i + 1].insn.dst == d[i].insn.dst;
      if (!jump64_on_dst) continue;
      const int32_t threshold = d[i + 1].insn.imm;
      if (d[i].form == isa::Form::arsh32_imm && d[i].insn.imm == 31 && threshold >= 0 && threshold <= 2)
        ++arsh32_then_small;
      if (d[i].form == isa::Form::mov32_imm && d[i].insn.imm < 0 && threshold == d[i].insn.imm)
        ++mov32_then_sext;
    }
  }
  RecordProperty("arsh32_then_small", arsh32_then_small);
  RecordProperty("mov32_then_sext", mov32_then_sext);
  EXPECT_GE(arsh32_then_small, 3);
  EXPECT_GE(mov32_then_sext, 3);
}

}  // namespace
}  // namespace bpfdiff::fuzz
