#include "oracle/smt/x86/symexec.hpp"

#include <map>
#include <string>

#include "oracle/smt/x86/semantics.hpp"

namespace bpfdiff::oracle::smt::x86 {
namespace {

struct Pending {
  uint32_t at;
  z3::expr condition;
  Machine state;
  unsigned steps;
};

}  // namespace

Result<std::vector<PathExit>> execute_range(const std::vector<Instruction>& insns, uint32_t begin,
                                            uint32_t end, const Machine& initial) {
  std::map<uint32_t, const Instruction*> at_offset;
  for (const Instruction& i : insns)
    at_offset[i.offset] = &i;
  std::vector<PathExit> exits;
  std::vector<Pending> work;
  work.push_back({begin, initial.ctx().bool_val(true), initial, 0});
  try {
    while (!work.empty()) {
      Pending p = std::move(work.back());
      work.pop_back();
      if (p.at < begin || p.at >= end) {
        exits.push_back({p.condition, std::move(p.state), p.at});
        continue;
      }
      const auto it = at_offset.find(p.at);
      if (it == at_offset.end())
        return make_error("x86: control reaches offset " + std::to_string(p.at) +
                          ", which is not the start of an instruction");
      if (++p.steps > kMaxPathSteps)
        return make_error("x86: a path runs longer than " + std::to_string(kMaxPathSteps) + " instructions");
      const Instruction& insn = *it->second;
      auto control = execute(p.state, insn);
      if (!control) return control.error();
      switch (control->kind) {
        case Control::Kind::Next:
          p.at = insn.end();
          work.push_back(std::move(p));
          break;
        case Control::Kind::Jump:
          p.at = control->target;
          work.push_back(std::move(p));
          break;
        case Control::Kind::Indirect:
          exits.push_back({p.condition, std::move(p.state), kIndirectTarget, control->address, insn.offset});
          break;
        case Control::Kind::Branch: {
          const z3::expr taken = control->condition->simplify();
          if (!taken.is_false()) work.push_back({control->target, p.condition && taken, p.state, p.steps});
          if (!taken.is_true())
            work.push_back({insn.end(), p.condition && !taken, std::move(p.state), p.steps});
          break;
        }
      }
    }
  } catch (const z3::exception& e) {
    return make_error(std::string("x86: z3: ") + e.msg());
  }
  return exits;
}

}  // namespace bpfdiff::oracle::smt::x86
