#pragma once
// Helpers for the x86 semantics tests: emit with our assembler, decode with
// Zydis.
#include <cstdint>
#include <functional>
#include <vector>

#include "oracle/smt/x86/decode.hpp"
#include "vm/jit/x86/assembler.hpp"

namespace bpfdiff::oracle::smt::x86::testutil {

// The single instruction `emit` produces, decoded.
inline Instruction one(const std::function<void(jit::x86::Assembler&)>& emit) {
  jit::x86::Assembler a;
  emit(a);
  auto decoded = decode_one(a.code());
  if (!a.ok() || !decoded || decoded->length != a.size()) return Instruction{};
  return std::move(decoded).value();
}

inline Instruction raw(std::vector<uint8_t> bytes) {
  auto decoded = decode_one(bytes);
  if (!decoded || decoded->length != bytes.size()) return Instruction{};
  return std::move(decoded).value();
}

}  // namespace bpfdiff::oracle::smt::x86::testutil
