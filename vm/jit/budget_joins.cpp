// Which blocks charge the instruction budget on entry, and how much: the
// joins of if-then diamonds are charged ahead by the diamond's head (see
// BlockInfo). Branchy code is mostly such diamonds, and each charge is a
// read-modify-write of the budget in the JIT context.
#include <cstddef>
#include <vector>

#include "vm/isa/families.hpp"
#include "vm/jit/lowering.hpp"

namespace bpfdiff::jit {
namespace {

struct Scratch {
  std::vector<uint32_t> entries, last, join, head_of_f;
  std::vector<bool> prepaid_block;
  std::vector<uint32_t> joinsum;
};

}  // namespace

void plan_charges(const vm::LoadedProgram& program, BlockInfo& b) {
  const std::size_t n = program.insns.size();
  b.charge.assign(n, 0);
  b.deopt_refund.assign(n, 0);
  b.prepaid.assign(n, 0);

  // The working arrays are kept per thread (their capacity survives between
  // compilations): fresh ones of a 100,000-slot program cost a page fault
  // per 4 KiB on every compile.
  thread_local Scratch scratch;
  std::vector<uint32_t>& entries = scratch.entries;
  std::vector<uint32_t>& last = scratch.last;
  std::vector<uint32_t>& join = scratch.join;
  std::vector<uint32_t>& head_of_f = scratch.head_of_f;
  std::vector<bool>& prepaid_block = scratch.prepaid_block;
  std::vector<uint32_t>& joinsum = scratch.joinsum;
  // Entries other than falling through: jump targets and function starts.
  entries.assign(n, 0);
  for (uint32_t f : program.function_starts)
    entries[f] += 2;  // never a diamond's F or L
  entries[program.source.entry] += 2;
  last.assign(n, 0);  // at leaders: the block's last instruction
  {
    uint32_t leader = 0;
    for (std::size_t pc = 0; pc < n;) {
      const vm::Insn& insn = program.insns[pc];
      const isa::FormInfo& fi = isa::info(insn.form);
      if (b.leader[pc]) leader = static_cast<uint32_t>(pc);
      last[leader] = static_cast<uint32_t>(pc);
      if (fi.sem.family == isa::Family::Jump) ++entries[insn.target];
      pc += fi.slots;
    }
  }
  auto next_of = [&](uint32_t pc) { return pc + isa::info(program.insns[pc].form).slots; };

  // join[p]: the join L of the diamond headed by block p, or 0 if none.
  join.assign(n, 0);
  head_of_f.assign(n, 0);  // at a diamond's F: its head, + 1
  prepaid_block.assign(n, false);
  for (std::size_t p = 0; p < n; ++p) {
    if (!b.leader[p] || b.block_length[p] == 0) continue;
    const vm::Insn& jump = program.insns[last[p]];
    const isa::Semantics& s = isa::info(jump.form).sem;
    if (s.family != isa::Family::Jump || s.cond == isa::JmpCond::Always) continue;
    const uint32_t f = next_of(last[p]);
    const uint32_t l = jump.target;
    if (f >= n || l <= f || entries[f] != 0 || entries[l] != 1) continue;
    // F must fall into L and go nowhere else.
    if (isa::transfers_control(isa::info(program.insns[last[f]].form).sem.family)) continue;
    if (next_of(last[f]) != l) continue;
    join[p] = l;
    head_of_f[f] = static_cast<uint32_t>(p) + 1;
    prepaid_block[l] = true;
  }

  // joinsum[x]: instructions of the chain of joins that block x charges ahead
  // (its join, that join's own join, ...); joins lie after their heads.
  joinsum.assign(n, 0);
  for (std::size_t i = n; i-- > 0;) {
    if (!b.leader[i] || join[i] == 0) continue;
    joinsum[i] = b.block_length[join[i]] + joinsum[join[i]];
  }
  for (std::size_t x = 0; x < n; ++x) {
    if (!b.leader[x] || b.block_length[x] == 0) continue;
    const uint32_t ahead = head_of_f[x] != 0 ? joinsum[head_of_f[x] - 1] : joinsum[x];
    if (!prepaid_block[x]) {
      b.charge[x] = b.block_length[x] + joinsum[x];
      b.deopt_refund[x] = b.charge[x] + (head_of_f[x] != 0 ? ahead : 0);
    }
    for (uint32_t pc = static_cast<uint32_t>(x); pc <= last[x]; pc = next_of(pc))
      b.prepaid[pc] = ahead;
  }
}

}  // namespace bpfdiff::jit
