#pragma once
// Loop-free ALU/JMP programs: what the smt engine can run, so that the model
// votes next to the interpreter and the JIT. A prologue loads r0..r9 with
// boundary values (lddw), a body of ALU, ALU32, byte-order and jump
// instructions follows (every jump forward, possibly straight to the final
// exit), then exit. Sometimes the instruction budget is set to run out inside
// the body, so the budget error's pc is compared too.
#include <cstddef>

#include "fuzz/byte_source.hpp"
#include "oracle/engine.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::fuzz {

struct LoopFreeCase {
  vm::Program program;
  oracle::EngineInput input;
};

inline constexpr std::size_t kMaxLoopFreeBody = 48;

// Valid by construction for every byte string; the body has at most
// `max_body` instructions (capped at kMaxLoopFreeBody).
LoopFreeCase generate_loop_free(ByteSource& src, std::size_t max_body = 32);

}  // namespace bpfdiff::fuzz
