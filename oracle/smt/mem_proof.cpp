#include "oracle/smt/mem_proof.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>

#include "oracle/smt/finish_proof.hpp"
#include "oracle/smt/jit_proof_support.hpp"
#include "oracle/smt/jit_snippet.hpp"
#include "oracle/smt/mem_counterexample.hpp"
#include "oracle/smt/mem_model.hpp"
#include "oracle/smt/read_over_write.hpp"
#include "oracle/smt/x86/shared_context.hpp"
#include "oracle/smt/x86/symexec.hpp"
#include "vm/isa/encode.hpp"
#include "vm/jit/jit_program.hpp"
#include "vm/jit/lowering.hpp"
#include "vm/jit/offsets.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/runtime/memory.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::oracle::smt {
namespace {

using proof_support::hex;
using proof_support::kContext;
using proof_support::sets_error_status;
using proof_support::value_in;
using proof_support::x86_of;

namespace off = jit::offsets;

constexpr uint32_t kMemPc = 1;
// The block charged at slot 0 is slots 0..2: a fault or packet end at pc 1
// leaves one instruction of it unexecuted, which the JIT must give back.
constexpr uint64_t kRefund = 1;

bool uses_base_dst(const isa::Semantics& s) {
  return s.family == isa::Family::StoreImm || s.family == isa::Family::StoreReg ||
         s.family == isa::Family::Atomic;
}

struct Obligation {
  std::string what;
  z3::expr holds;
  std::size_t path;  // obligations of one x86 path are proved in one query
};

// The counterexample again, on a region table a .data test's run has
// (mem_counterexample.hpp), as that test; "" when no path has one (the
// fault needs a table no real run has, or the solver gives up).
template <class MakeSolver>
std::string realizable_data_test(const MemCase& c, const std::string& detail, std::size_t paths,
                                 const MakeSolver& make_solver, const z3::expr& m0, const z3::expr& cp,
                                 const std::array<z3::expr, isa::kNumRegisters>& regs,
                                 const z3::expr& address) {
  z3::context& ctx = m0.ctx();
  const DataTestRun run = data_test_run(ctx, m0, cp, regs, address);
  for (std::size_t p = 0; p < paths; ++p) {
    z3::solver solver = make_solver(p, run.constraint);
    if (solver.check() != z3::sat) continue;
    const z3::model m = solver.get_model();
    MemWitness w;
    for (uint8_t r = 0; r < isa::kFramePointer; ++r)
      w.regs[r] = value_in(m, regs[r]);
    w.address = value_in(m, address);
    w.packet_mode = m.eval(run.packet_mode, true).is_true();
    const uint64_t length = w.packet_mode ? kWitnessPacketBytes : value_in(m, run.input_length);
    const z3::expr& host = w.packet_mode ? run.packet_host : run.input_host;
    for (uint64_t i = 0; i < length; ++i)
      w.input.push_back(static_cast<uint8_t>(value_in(m, z3::select(m0, host + ctx.bv_val(i, 64)))));
    auto text = mem_counterexample_data(c, w, "smt check: " + detail);
    if (text) return *text;
  }
  return "";
}

// The same for a legacy packet load, on the packet a .data test's run in
// memory mode has (its input) at depth 0 (mem_counterexample.hpp, which
// says why no deeper one); "" when no path refutes there.
template <class MakeSolver>
std::string realizable_packet_test(const MemCase& c, const std::string& detail, std::size_t paths,
                                   const MakeSolver& make_solver, const z3::expr& m0, const z3::expr& cp,
                                   const std::array<z3::expr, isa::kNumRegisters>& regs) {
  z3::context& ctx = m0.ctx();
  const PacketTestRun run = packet_test_run(ctx, m0, cp, regs);
  for (std::size_t p = 0; p < paths; ++p) {
    z3::solver solver = make_solver(p, run.constraint);
    if (solver.check() != z3::sat) continue;
    const z3::model m = solver.get_model();
    MemWitness w;
    for (uint8_t r = 0; r < isa::kFramePointer; ++r)
      w.regs[r] = value_in(m, regs[r]);
    const uint64_t length = value_in(m, run.packet_length);
    for (uint64_t i = 0; i < length; ++i)
      w.input.push_back(
          static_cast<uint8_t>(value_in(m, z3::select(m0, run.packet_host + ctx.bv_val(i, 64)))));
    auto text = mem_counterexample_data(c, w, "smt check: " + detail);
    if (text) return *text;
  }
  return "";
}

}  // namespace

isa::RawInsn mem_case_instruction(const MemCase& c) {
  const isa::FormInfo& fi = isa::info(c.form);
  const uint8_t dst = fi.rules.dst != isa::RegRule::Zero ? c.dst : 0;
  const uint8_t src = fi.rules.src != isa::RegRule::Zero ? c.src : 0;
  const int16_t offset = fi.rules.off != isa::ValueRule::Zero ? c.off : 0;
  const int32_t imm = fi.rules.imm == isa::ValueRule::Any ? c.imm : 0;
  return isa::encode(c.form, dst, src, offset, imm);
}

std::string describe(const MemCase& c) {
  return std::string(isa::info(c.form).name) + " (" +
         text::disassemble_one(mem_case_instruction(c), nullptr) + ") on " + jit::engine_name(c.options);
}

Result<MemSnippet> compile_mem_snippet(const MemCase& c) {
  auto compiled = compile_in_frame(mem_case_instruction(c), false, c.options);
  if (!compiled) return make_error(describe(c) + ": " + compiled.error().message);
  const jit::JitProgram& jp = **compiled;
  MemSnippet s;
  s.code.assign(jp.code().begin(), jp.code().end());
  s.begin = jp.insn_offsets()[kMemPc];
  s.end = jp.insn_offsets()[kMemPc + 1];
  s.stubs_begin = jp.body_size();
  const std::span<const uint8_t> code(s.code);
  auto body = x86::decode(code.subspan(s.begin, s.end - s.begin), s.begin);
  if (!body) return make_error(describe(c) + ": " + body.error().message);
  auto tail = x86::decode(code.subspan(s.stubs_begin), s.stubs_begin);
  if (!tail) return make_error(describe(c) + ": " + tail.error().message);
  // Every stub ends with a jump to the error exit or the exit, which follow
  // all stubs: the first such target is where stub code ends.
  std::optional<uint32_t> first_exit;
  for (const x86::Instruction& i : *tail) {
    if (i.mnemonic == ZYDIS_MNEMONIC_JMP && i.operands.size() == 1 &&
        i.operands[0].kind == x86::Operand::Kind::Rel &&
        i.operands[0].imm > static_cast<int64_t>(s.stubs_begin))
      first_exit = std::min(first_exit.value_or(UINT32_MAX), static_cast<uint32_t>(i.operands[0].imm));
  }
  s.stubs_end = first_exit.value_or(s.stubs_begin);
  s.insns = std::move(body).value();
  for (const x86::Instruction& i : *tail) {
    if (i.offset < s.stubs_end) {
      s.insns.push_back(i);
    } else if (i.offset == s.stubs_end && sets_error_status(i)) {
      s.error_exit = i.offset;
      s.stubs_end = i.end();
      s.insns.push_back(i);
      break;
    } else {
      break;
    }
  }
  return s;
}

MemProof prove_mem_snippet(const MemCase& c, const MemSnippet& s, unsigned timeout_ms) {
  const auto start = std::chrono::steady_clock::now();
  MemProof proof;
  auto finish = [&](MemProof::Verdict v, std::string detail) {
    return finish_proof(proof, start, v, std::move(detail));
  };
  if (!mem::is_memory_form(c.form))
    return finish(MemProof::Verdict::Error, describe(c) + ": not a memory form");
  try {
    z3::context& ctx = x86::shared_context();
    x86::Machine in = x86::Machine::symbolic(ctx);
    const z3::expr cp = in.gpr[kContext];
    const z3::expr& m0 = in.memory;
    std::array<z3::expr, isa::kNumRegisters> regs = proof_support::bpf_registers(in);
    const isa::RawInsn raw = mem_case_instruction(c);
    const isa::Semantics& sem = isa::info(c.form).sem;
    const bool packet = sem.family == isa::Family::PacketLoad;
    const auto bv = [&](uint64_t v, unsigned bits = 64) { return ctx.bv_val(v, bits); };
    const auto field = [&](int32_t o, unsigned bytes) { return mem::context_field(m0, cp, o, bytes); };
    const auto at = [&](const z3::expr& base, uint64_t o) { return (base + bv(o)).simplify(); };

    // What the JIT and the interpreter both keep true.
    z3::expr_vector pre(ctx);
    const z3::expr regions = field(off::kRegions, 8);
    const z3::expr stack = at(regions, sizeof(vm::Region) * static_cast<uint32_t>(vm::RegionId::Stack));
    const z3::expr r10 = regs[isa::kFramePointer];
    const z3::expr r10_off = r10 & bv(vm::kRegionOffsetMask);
    pre.push_back(z3::lshr(r10, bv(vm::kRegionShift)) == bv(static_cast<uint32_t>(vm::RegionId::Stack)));
    pre.push_back(z3::uge(r10_off, bv(vm::kStackFrameBytes)));
    pre.push_back(z3::ule(mem::read_le(m0, at(stack, offsetof(vm::Region, lo)), 8),
                          r10_off - bv(vm::kStackFrameBytes)));
    pre.push_back(z3::ule(r10_off, mem::read_le(m0, at(stack, offsetof(vm::Region, hi)), 8)));
    pre.push_back(z3::select(m0, at(stack, offsetof(vm::Region, writable))) != bv(0, 8));
    // r9 holds ctx.stack_delta, the stack's host base minus its virtual
    // base: written as that difference rather than a free value equal to it,
    // so that the fast path's r10 + r9 + off and the interpreter's host +
    // offset become the same sum once the solver flattens them (a free r9
    // left the frame cases to minutes of array reasoning).
    const z3::expr stack_base = bv(vm::region_base(vm::RegionId::Stack));
    in.gpr[proof_support::kStackDelta] =
        mem::read_le(m0, at(stack, offsetof(vm::Region, host)), 8) - stack_base;
    const z3::expr delta = in.gpr[proof_support::kStackDelta];
    pre.push_back(delta == field(off::kStackDelta, 8));
    pre.push_back(field(off::kStatus, 4) == bv(static_cast<uint32_t>(jit::JitStatus::Exit), 32));
    if (packet) {
      // Distinct C++ objects: none wraps around the address space, none overlaps another.
      const z3::expr frames = field(off::kFrames, 8);
      const std::array<std::pair<z3::expr, uint64_t>, 3> objects = {
          std::pair{cp, uint64_t{sizeof(jit::JitContext)}},
          std::pair{regions, uint64_t{sizeof(vm::Region) * vm::kMaxRegions}},
          std::pair{frames, uint64_t{sizeof(vm::CallFrame)}}};
      for (const auto& [base, size] : objects)
        pre.push_back(z3::ule(base, bv(~uint64_t{0} - size)));
      for (std::size_t i = 0; i < objects.size(); ++i) {
        for (std::size_t j = i + 1; j < objects.size(); ++j) {
          const auto& [a, la] = objects[i];
          const auto& [b, lb] = objects[j];
          pre.push_back(z3::ule(a + bv(la), b) || z3::ule(b + bv(lb), a));
        }
      }
    }

    // Facts about an r10-relative address that follow from the frame
    // invariant alone. Asserted once proved (a small bit-vector query), they
    // let the solver identify the interpreter's region-table entry with the
    // stack's without rediscovering the arithmetic inside the array theory.
    // Only for an access inside the frame [r10 - 512, r10), whose code adds
    // the stack delta in r9 to the address. An access that may leave
    // the frame is translated from its address by region lookup, as the
    // interpreter's plain terms are, and the solver matches those directly:
    // with the facts substituted, the frame-top case of ldxw took 50-90 s of
    // solving instead of 0.4 s. Either way the facts are proved
    // equivalences, so the choice changes the time, not what is proved.
    const uint8_t base =
        (sem.family == isa::Family::Load || sem.family == isa::Family::LoadSigned) ? raw.src : raw.dst;
    const int32_t access_end = raw.off + static_cast<int32_t>(isa::bytes_of(sem.size));
    const bool inside_frame = raw.off >= -static_cast<int32_t>(vm::kStackFrameBytes) && access_end <= 0;
    mem::AddressHints hints;
    if (!packet && base == isa::kFramePointer && inside_frame) {
      const z3::expr addr =
          regs[isa::kFramePointer] + bv(static_cast<uint64_t>(static_cast<int64_t>(raw.off)));
      const z3::expr r10_pre =
          z3::lshr(r10, bv(vm::kRegionShift)) == bv(static_cast<uint32_t>(vm::RegionId::Stack)) &&
          z3::uge(r10_off, bv(vm::kStackFrameBytes));
      const std::array<z3::expr, 2> facts = {
          z3::lshr(addr, bv(vm::kRegionShift)) == bv(static_cast<uint32_t>(vm::RegionId::Stack)),
          (addr & bv(vm::kRegionOffsetMask)) ==
              r10 - stack_base + bv(static_cast<uint64_t>(static_cast<int64_t>(raw.off)))};
      const auto proved = [&](const z3::expr& fact) {
        z3::solver lemma(ctx, "QF_BV");
        lemma.add(r10_pre && !fact);
        return lemma.check() == z3::unsat;
      };
      if (proved(facts[0])) hints.index = bv(static_cast<uint32_t>(vm::RegionId::Stack));
      if (proved(facts[1]))
        hints.offset =
            (r10 - stack_base + bv(static_cast<uint64_t>(static_cast<int64_t>(raw.off)))).simplify();
      // The frame's bounds in the same terms as the offset.
      const z3::expr same_offset = r10_off == r10 - stack_base;
      if (proved(same_offset)) pre.push_back(same_offset);
    }
    auto step = mem::interpret(c.form, raw, regs, m0, cp, hints);
    if (!step) return finish(MemProof::Verdict::Error, step.error().message);

    // The interpreter's outcome in the terms the JIT context records it in.
    // The budget lives in r10 (jit::kBudget) while JIT code runs.
    const z3::expr budget = in.gpr[proof_support::kBudget];
    const z3::expr refunded = budget + bv(kRefund);
    z3::expr fault_memory =
        mem::write_le(m0, at(cp, off::kStatus), bv(static_cast<uint32_t>(jit::JitStatus::Error), 32));
    fault_memory =
        mem::write_le(fault_memory, at(cp, off::kErrorKind), bv(static_cast<uint32_t>(step->kind), 32));
    fault_memory = mem::write_le(fault_memory, at(cp, off::kErrorPc), bv(kMemPc, 32));
    fault_memory = mem::write_le(fault_memory, at(cp, off::kErrorAddress), step->address);
    fault_memory = mem::write_le(fault_memory, at(cp, off::kErrorSize), bv(step->size, 32));
    const z3::expr& end_memory = step->memory;
    const z3::expr probe = ctx.bv_const("probe", 64);  // any host byte

    auto body = x86::execute_range(s.insns, s.begin, s.end, in);
    if (!body) return finish(MemProof::Verdict::Error, body.error().message);
    std::vector<x86::PathExit> exits;
    for (x86::PathExit& e : *body) {
      if (e.target < s.stubs_begin || e.target >= s.stubs_end) {
        exits.push_back(std::move(e));
        continue;
      }
      auto stub = x86::execute_range(s.insns, e.target, s.stubs_end, e.state);
      if (!stub) return finish(MemProof::Verdict::Error, stub.error().message);
      for (x86::PathExit& f : *stub) {
        f.condition = e.condition && f.condition;
        exits.push_back(std::move(f));
      }
    }
    proof.paths = static_cast<unsigned>(exits.size());

    std::vector<Obligation> obligations;
    std::size_t path = 0;
    const auto add = [&](std::string what, const z3::expr& holds) {
      obligations.push_back({std::move(what), holds, path});
    };
    const std::string ends = packet ? "a packet load ends the program" : "the interpreter faults";
    for (const x86::PathExit& e : exits) {
      const x86::Machine& out = e.state;
      const z3::expr& cond = e.condition;
      if (e.target == s.end) {
        add("the code falls through only when the interpreter neither faults nor ends the program",
            z3::implies(cond, !step->fault && !step->packet_end));
        for (uint8_t r = 0; r < isa::kNumRegisters; ++r) {
          add("r" + std::to_string(r) + " (" + x86::gpr_name(x86_of(r)) +
                  ") after the access equals the interpreter's",
              z3::implies(cond, out.gpr[x86_of(r)] == step->regs[r]));
        }
        add("the budget (r10) after the access is unchanged",
            z3::implies(cond, out.gpr[proof_support::kBudget] == budget));
        // Code that borrows r9 past a store reloads it from ctx.stack_delta,
        // which no store reaches (no region maps the JIT context, as none
        // maps the region table): either form keeps r9 = ctx.stack_delta.
        add("r9 after the access is the stack delta (kept, or reloaded from ctx.stack_delta)",
            z3::implies(
                cond, out.gpr[proof_support::kStackDelta] == delta ||
                          out.gpr[proof_support::kStackDelta] ==
                              mem::read_le(out.memory, at(cp, static_cast<uint64_t>(off::kStackDelta)), 8)));
        add("host memory after the access equals the interpreter's (every byte)",
            z3::implies(cond, packet ? same_memory(out.memory, step->memory, m0, probe)
                                     : z3::select(out.memory, probe) == z3::select(step->memory, probe)));
      } else if (e.target == s.stubs_end) {
        add("the code leaves through a stub only when " + ends,
            z3::implies(cond, step->fault || step->packet_end));
        for (uint8_t r = 0; r < isa::kNumRegisters; ++r) {
          add("r" + std::to_string(r) + " (" + x86::gpr_name(x86_of(r)) +
                  ") at the stub's exit equals the interpreter's",
              z3::implies(cond, out.gpr[x86_of(r)] == z3::ite(step->fault, regs[r], step->regs[r])));
        }
        add("the budget (r10) at the stub's exit has the rest of the block given back",
            z3::implies(cond, out.gpr[proof_support::kBudget] == refunded));
        const z3::expr expected = z3::ite(step->fault, fault_memory, end_memory).simplify();
        add("host memory at the stub's exit (error fields, status, unwinding) equals the "
            "interpreter's",
            z3::implies(cond, packet ? same_memory(out.memory, expected, m0, probe)
                                     : z3::select(out.memory, probe) == z3::select(expected, probe)));
      } else {
        add("a path leaves to code offset " + std::to_string(e.target) +
                ", neither the next instruction nor the end of a stub",
            !cond);
      }
      add("r12 (the JIT context) keeps its value", z3::implies(cond, out.gpr[kContext] == in.gpr[kContext]));
      add("rsp keeps its value", z3::implies(cond, out.gpr[x86::kRsp] == in.gpr[x86::kRsp]));
      ++path;
    }

    // One query per x86 path: a few small queries are much easier for the
    // array solver than their conjunction.
    const auto make_solver = [&](std::size_t p, const z3::expr& extra) {
      z3::solver solver(ctx, "QF_ABV");
      if (timeout_ms > 0) {
        z3::params params(ctx);
        params.set("timeout", timeout_ms);
        solver.set(params);
      }
      z3::expr_vector all(ctx);
      for (const Obligation& o : obligations)
        if (o.path == p) all.push_back(o.holds);
      if (packet) {
        // The unwinding reads the outermost frame and writes the context and
        // the region table, which `pre` keeps apart: resolving those reads
        // over writes first (read_over_write.hpp) is what lets the solver
        // finish.
        const auto extent = [](uint64_t bytes) { return static_cast<int64_t>(bytes); };
        const std::vector<DisjointObject> disjoint = {
            {cp, 0, extent(sizeof(jit::JitContext))},
            {regions.simplify(), 0, extent(sizeof(vm::Region) * vm::kMaxRegions)},
            {field(off::kFrames, 8).simplify(), 0, extent(sizeof(vm::CallFrame))}};
        solver.add(expand_reads(z3::mk_and(pre) && !z3::mk_and(all), disjoint).simplify());
      } else {
        solver.add(z3::mk_and(pre));
        solver.add(!z3::mk_and(all));
      }
      solver.add(extra);
      return solver;
    };
    std::optional<z3::model> found;
    for (std::size_t p = 0; p < path && !found; ++p) {
      z3::solver solver = make_solver(p, ctx.bool_val(true));
      switch (solver.check()) {
        case z3::unsat:
          continue;
        case z3::unknown:
          return finish(MemProof::Verdict::Error, "solver gave up: " + solver.reason_unknown() +
                                                      " (x86 path " + std::to_string(p + 1) + " of " +
                                                      std::to_string(path) + ")");
        case z3::sat:
          found = solver.get_model();
          break;
      }
    }
    if (!found) return finish(MemProof::Verdict::Proved, "");
    const z3::model& m = *found;
    for (unsigned r = 0; r < x86::kGprCount; ++r)
      proof.inputs[r] = value_in(m, in.gpr[r]);
    for (const Obligation& o : obligations) {
      if (!m.eval(o.holds, true).is_false()) continue;
      const z3::expr addr = step->address;
      const uint64_t a = value_in(m, addr);
      const z3::expr entry = regions + bv(sizeof(vm::Region)) * z3::lshr(addr, bv(vm::kRegionShift));

      std::string values = "address " + hex(a);
      if (!packet) {
        values += " (region " + std::to_string(a >> vm::kRegionShift) + ": host " +
                  hex(value_in(m, mem::read_le(m0, at(entry, offsetof(vm::Region, host)), 8))) + ", lo " +
                  hex(value_in(m, mem::read_le(m0, at(entry, offsetof(vm::Region, lo)), 8))) + ", hi " +
                  hex(value_in(m, mem::read_le(m0, at(entry, offsetof(vm::Region, hi)), 8))) + ", writable " +
                  std::to_string(value_in(m, z3::select(m0, at(entry, offsetof(vm::Region, writable))))) +
                  ")";
      } else {
        values += ", packet_len " + hex(value_in(m, field(off::kPacketLen, 8)));
      }
      values += "; interpreter " + std::string(m.eval(step->fault || step->packet_end, true).is_true()
                                                   ? (packet ? "ends the program" : "faults")
                                                   : "proceeds");
      values += proof_support::bpf_register_values(proof.inputs, 0);
      std::string detail = describe(c) + ": " + o.what + " [" + values + "]";
      proof.data_test = packet ? realizable_packet_test(c, detail, path, make_solver, m0, cp, regs)
                               : realizable_data_test(c, detail, path, make_solver, m0, cp, regs, addr);
      if (packet && proof.data_test.empty())
        detail += " (no .data test: no run at depth 0 with a packet of at most " +
                  std::to_string(kWitnessInputMax) + " bytes refutes it)";
      return finish(MemProof::Verdict::Counterexample, std::move(detail));
    }
    return finish(MemProof::Verdict::Error, "the solver's model violates no obligation");
  } catch (const z3::exception& e) {
    return finish(MemProof::Verdict::Error, std::string("z3: ") + e.msg());
  }
}

MemProof prove_mem_case(const MemCase& c, unsigned timeout_ms) {
  return proof_support::compile_and_prove<MemProof>(c, compile_mem_snippet, prove_mem_snippet, timeout_ms);
}

std::vector<int16_t> offset_classes(isa::Form form, uint8_t base) {
  const isa::Semantics& s = isa::info(form).sem;
  if (s.family == isa::Family::PacketLoad) return {0};
  if (base == isa::kFramePointer) {
    const auto size = static_cast<int16_t>(isa::bytes_of(s.size));
    return {-8, -static_cast<int16_t>(vm::kStackFrameBytes), -static_cast<int16_t>(vm::kStackFrameBytes + 1),
            static_cast<int16_t>(1 - size)};
  }
  return {-8, 0x7fff};
}

std::vector<MemCase> mem_cases_for(isa::Form form, uint8_t dst, uint8_t src, const jit::JitOptions& options) {
  const isa::FormInfo& fi = isa::info(form);
  const isa::Semantics& s = fi.sem;
  std::vector<MemCase> out;
  if (!mem::is_memory_form(form)) return out;
  const auto max_of = [](isa::RegRule r) {
    return r == isa::RegRule::Writable ? isa::kFramePointer - 1 : isa::kFramePointer;
  };
  if (fi.rules.dst != isa::RegRule::Zero && dst > max_of(fi.rules.dst)) return out;
  if (fi.rules.src != isa::RegRule::Zero && src > max_of(fi.rules.src)) return out;
  const uint8_t d = fi.rules.dst != isa::RegRule::Zero ? dst : 0;
  const uint8_t r = fi.rules.src != isa::RegRule::Zero ? src : 0;
  const uint8_t base = uses_base_dst(s) ? d : r;
  std::vector<int32_t> imms = {0};
  if (s.family == isa::Family::StoreImm) imms = {-1, 0x5a, 0x12345678};
  if (s.family == isa::Family::PacketLoad) imms = {0, 0x7ffffff0, -4};
  for (int16_t o : offset_classes(form, base)) {
    for (int32_t imm : imms) {
      MemCase c;
      c.form = form;
      c.dst = d;
      c.src = r;
      c.off = o;
      c.imm = imm;
      c.options = options;
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace bpfdiff::oracle::smt
