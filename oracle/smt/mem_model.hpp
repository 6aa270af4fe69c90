#pragma once
// The interpreter's memory semantics in Z3, over the same byte-addressed
// host memory the x86 semantics works on (oracle/smt/x86/machine.hpp): the
// address translation of vm::AddressSpace::translate on the region table the
// JIT context points to, and what one load, store, atomic or legacy packet
// load (vm/interp/interpreter.cpp) does to the BPF registers and to host
// memory, or which error it stops with. Written from the C++ of the
// interpreter and the runtime, independently of the JIT's lowering.
//
// The JIT context (vm/jit/context.hpp) is where the interpreter's state is
// found: its region table is ctx.regions (the interpreter's AddressSpace
// table, which the JIT indexes directly), the legacy packet is ctx.packet /
// ctx.packet_len, the call frames ctx.frames, the depth ctx.depth.
#include <z3++.h>

#include <array>
#include <cstdint>
#include <optional>

#include "vm/isa/raw.hpp"
#include "vm/isa/table.hpp"
#include "vm/runtime/error.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::smt::mem {

// Little-endian access to a byte array (64-bit address -> byte).
z3::expr read_le(const z3::expr& memory, const z3::expr& address, unsigned bytes);
z3::expr write_le(const z3::expr& memory, const z3::expr& address, const z3::expr& value);

// A field of the JIT context at `ctx` (a 64-bit host address).
z3::expr context_field(const z3::expr& memory, const z3::expr& ctx, int32_t offset, unsigned bytes);

struct Translation {
  z3::expr fault;  // Bool: translate returns nullptr
  z3::expr host;   // host address of the first byte (meaningful when !fault)
};

// Terms known to equal addr >> 32 and addr & 0xffffffff (proved by the
// caller from its assumptions): translate uses them instead, so that equal
// addresses come out as equal terms.
struct AddressHints {
  std::optional<z3::expr> index;
  std::optional<z3::expr> offset;
};

// vm::AddressSpace::translate(addr, size, write) on the table at `regions`.
Translation translate(const z3::expr& memory, const z3::expr& regions, const z3::expr& addr, unsigned size,
                      bool write, const AddressHints& hints = {});

// What the interpreter's step does for one memory instruction.
struct Step {
  z3::expr fault;       // Bool: stops with an error {kind, pc, address, size}
  vm::ErrorKind kind;   // the error's kind when it faults
  z3::expr address;     // the error's address (the BPF virtual address)
  unsigned size;        // the error's size
  z3::expr packet_end;  // Bool: a legacy packet load out of range ends the program (r0 = 0)
  z3::expr memory;      // host memory afterwards (when neither faulting nor ending: the access done;
                        // packet end: the unwinding done)
  std::array<z3::expr, isa::kNumRegisters> regs;  // BPF registers afterwards (any outcome)
};

// `regs` are the BPF registers before the instruction, `memory` host memory,
// `ctx` the JIT context's host address. Fails for non-memory forms.
Result<Step> interpret(isa::Form form, const isa::RawInsn& insn,
                       const std::array<z3::expr, isa::kNumRegisters>& regs, const z3::expr& memory,
                       const z3::expr& ctx, const AddressHints& hints = {});

bool is_memory_form(isa::Form form);

}  // namespace bpfdiff::oracle::smt::mem
