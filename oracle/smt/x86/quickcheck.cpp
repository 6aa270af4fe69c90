#include "oracle/smt/x86/quickcheck.hpp"

#include <cstdio>
#include <random>

#include "oracle/smt/x86/machine.hpp"
#include "oracle/smt/x86/semantics.hpp"
#include "oracle/smt/x86/shared_context.hpp"

namespace bpfdiff::oracle::smt::x86 {
namespace {

constexpr std::size_t kMaxMismatches = 4;

constexpr uint64_t kBoundaries[] = {0,
                                    1,
                                    2,
                                    7,
                                    8,
                                    15,
                                    16,
                                    17,
                                    31,
                                    32,
                                    33,
                                    63,
                                    64,
                                    65,
                                    0x7f,
                                    0x80,
                                    0xff,
                                    0x7fff,
                                    0x8000,
                                    0xffff,
                                    0x7fffffff,
                                    0x80000000,
                                    0xffffffff,
                                    0x100000000,
                                    0x7fffffffffffffff,
                                    0x8000000000000000,
                                    0xffffffffffffffff,
                                    0xfffffffffffffffe,
                                    0xffffffff80000000,
                                    0x00000000ffff8000};

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string show_state(const NativeState& s) {
  std::string out;
  for (unsigned r = 0; r < 16; ++r) {
    if (r == kRsp) continue;
    out += gpr_name(static_cast<uint8_t>(r)) + "=" + hex(s.gpr[r]) + " ";
  }
  return out + "rflags=" + hex(s.rflags);
}

// Evaluates model terms on one concrete input state. A Z3 model evaluator
// is much faster than substitute-and-simplify; without model completion, a
// term that depends on an undefined flag stays symbolic.
struct Evaluator {
  z3::model model;

  Evaluator(z3::context& c, const Machine& in, const NativeState& s) : model(c) {
    for (unsigned r = 0; r < kGprCount; ++r) {
      z3::func_decl d = in.gpr[r].decl();
      z3::expr v = c.bv_val(s.gpr[r], 64);
      model.add_const_interp(d, v);
    }
    for (unsigned f = 0; f < kFlagCount; ++f) {
      z3::func_decl d = in.flags[f].decl();
      z3::expr v = c.bool_val(((s.rflags >> kRflagsBit[f]) & 1) != 0);
      model.add_const_interp(d, v);
    }
  }
  z3::expr eval(const z3::expr& e) { return model.eval(e, false); }
};

// Random rdx:rax pairs almost always overflow a division; make most of
// them the dividends the JIT builds (rdx zeroed for div, the sign of rax for
// idiv) so the states also reach the non-faulting results.
void shape_dividend(const Instruction& insn, NativeState& s) {
  const bool is_div = insn.mnemonic == ZYDIS_MNEMONIC_DIV;
  if ((!is_div && insn.mnemonic != ZYDIS_MNEMONIC_IDIV) || s.gpr[kRbx] % 4 == 3) return;
  const bool narrow = insn.operand_bits == 32;
  const uint64_t sign = narrow ? ((s.gpr[kRax] >> 31) & 1) : (s.gpr[kRax] >> 63);
  const uint64_t fill = narrow ? 0xffffffffull : ~uint64_t{0};
  s.gpr[kRdx] = (s.gpr[kRdx] & ~fill) | (is_div || sign == 0 ? 0 : fill);
}

}  // namespace

std::vector<NativeState> states_for(const Instruction& insn, unsigned count, uint64_t seed) {
  std::vector<NativeState> states = boundary_states(count, seed);
  for (NativeState& s : states)
    shape_dividend(insn, s);
  return states;
}

std::vector<NativeState> boundary_states(unsigned count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<NativeState> states(count);
  constexpr std::size_t kChoices = sizeof kBoundaries / sizeof kBoundaries[0];
  for (NativeState& s : states) {
    for (unsigned r = 0; r < 16; ++r) {
      const uint64_t pick = rng();
      switch (pick % 4) {
        case 0:
        case 1:
          s.gpr[r] = kBoundaries[(pick >> 8) % kChoices];
          break;
        case 2:
          s.gpr[r] = rng();
          break;
        default:  // a random value of a random width, sign-extended or not
          s.gpr[r] = rng() >> ((pick >> 8) % 64);
          if ((pick >> 16) & 1) s.gpr[r] = ~s.gpr[r];
          break;
      }
    }
    s.rflags = rng() & kArithmeticFlagMask;
  }
  return states;
}

Result<QuickcheckReport> quickcheck(const Instruction& insn, std::span<const NativeState> states,
                                    unsigned fork_limit) {
  auto runner = NativeRunner::create(insn);
  if (!runner) return runner.error();
  QuickcheckReport report;
  try {
    z3::context& c = shared_context();
    const Machine in = Machine::symbolic(c, "in_");
    Machine out = in;
    auto control = execute(out, insn);
    if (!control) return control.error();
    if (control->kind == Control::Kind::Indirect)  // the harness runs one instruction and comes back
      return make_error("x86 quickcheck: " + describe(insn) +
                        ": control transfers through rsp or a register "
                        "are not run natively");
    for (const NativeState& s : states) {
      Evaluator ev(c, in, s);
      if (ev.eval(out.divide_error).is_true()) {
        ++report.divide_errors;
        if (report.divide_errors_forked < fork_limit) {
          if (!runner->faults_in_child(s)) {
            if (report.mismatches.size() < kMaxMismatches)
              report.mismatches.push_back(
                  describe(insn) + ": the model predicts #DE but the CPU did not fault on " + show_state(s));
          } else {
            ++report.divide_errors_forked;
          }
        }
        continue;
      }
      const NativeState got = runner->run(s);
      ++report.compared;
      std::string why;
      for (unsigned r = 0; r < kGprCount; ++r) {
        if (r == kRsp) continue;
        const z3::expr v = z3::eq(out.gpr[r], in.gpr[r]) ? c.bv_val(s.gpr[r], 64) : ev.eval(out.gpr[r]);
        uint64_t want = 0;
        if (!v.is_numeral_u64(want)) {
          why += gpr_name(static_cast<uint8_t>(r)) + " is not determined by the model; ";
        } else if (want != got.gpr[r]) {
          why += gpr_name(static_cast<uint8_t>(r)) + " model " + hex(want) + " cpu " + hex(got.gpr[r]) + "; ";
        }
      }
      for (unsigned f = 0; f < kFlagCount; ++f) {
        const z3::expr v = ev.eval(out.flags[f]);
        if (!v.is_true() && !v.is_false()) continue;  // undefined by the SDM
        const bool cpu = ((got.rflags >> kRflagsBit[f]) & 1) != 0;
        if (v.is_true() != cpu)
          why += std::string(flag_name(static_cast<Flag>(f))) + " model " + (v.is_true() ? "1" : "0") +
                 " cpu " + (cpu ? "1" : "0") + "; ";
      }
      if (control->kind != Control::Kind::Next) {
        const bool want = control->kind == Control::Kind::Jump || ev.eval(*control->condition).is_true();
        if (want != (got.taken != 0))
          why += std::string("branch model ") + (want ? "taken" : "not taken") + " cpu " +
                 (got.taken ? "taken" : "not taken") + "; ";
      }
      if (!why.empty() && report.mismatches.size() < kMaxMismatches)
        report.mismatches.push_back(describe(insn) + ": " + why + "on " + show_state(s));
    }
  } catch (const z3::exception& e) {
    return make_error(std::string("quickcheck: z3: ") + e.msg());
  }
  return report;
}

}  // namespace bpfdiff::oracle::smt::x86
