#pragma once
// Properties of a whole instruction family that several consumers ask about
// (the JIT's block analysis, the finding signature, the Z3 memory model): one
// exhaustive switch each, so that a new family breaks them here, once.
#include "vm/isa/semantics.hpp"

namespace bpfdiff::isa {

// Loads, stores, atomics and the legacy packet loads: every family that reads
// or writes memory.
constexpr bool accesses_memory(Family family) {
  switch (family) {
    case Family::Load:
    case Family::LoadSigned:
    case Family::StoreImm:
    case Family::StoreReg:
    case Family::Atomic:
    case Family::PacketLoad:
      return true;
    case Family::Alu:
    case Family::Endian:
    case Family::Jump:
    case Family::Call:
    case Family::Exit:
    case Family::Lddw:
      return false;
  }
  return false;
}

// Jumps, calls and exit: every family after which execution may continue
// somewhere other than the next instruction.
constexpr bool transfers_control(Family family) {
  switch (family) {
    case Family::Jump:
    case Family::Call:
    case Family::Exit:
      return true;
    case Family::Alu:
    case Family::Endian:
    case Family::Lddw:
    case Family::Load:
    case Family::LoadSigned:
    case Family::StoreImm:
    case Family::StoreReg:
    case Family::Atomic:
    case Family::PacketLoad:
      return false;
  }
  return false;
}

}  // namespace bpfdiff::isa
