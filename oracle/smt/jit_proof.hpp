#pragma once
// Translation validation of the JIT, one instruction at a time (the idea of
// Jitterbug, applied to our JIT): symbolically execute the x86-64 code the
// JIT really emitted for a BPF instruction (jit_snippet.hpp, decoded with
// Zydis, x86 semantics from oracle/smt/x86) from a state where every
// register holds an arbitrary 64-bit value, and prove against the BPF model
// (bpf_model.hpp) that
//   - the BPF destination ends up with the model's result (ALU, END);
//   - every other mapped BPF register, the context pointer r12 and rsp keep
//     their values (the frame condition; r9..r11 are the JIT's scratch);
//   - no path raises #DE;
//   - a jump goes to the code of its BPF target exactly when the model says
//     it is taken, and falls through to the next instruction otherwise; an
//     ALU or END instruction always falls through.
// A failed proof comes with a counterexample, printed as a ready-to-run
// .data test.
#include <array>
#include <cstdint>
#include <string>

#include "oracle/smt/jit_snippet.hpp"

namespace bpfdiff::oracle::smt {

struct JitProof {
  enum class Verdict : uint8_t { Proved, Counterexample, Error };
  Verdict verdict = Verdict::Error;
  std::string detail;                 // Counterexample: the obligation that fails; Error: why
  std::string data_test;              // Counterexample: a .data test the model's result makes pass
  std::array<uint64_t, 16> inputs{};  // Counterexample: the x86 registers (rax..r15) it starts from
  bool branch_taken = false;          // Counterexample of a jump: what the model decides
  unsigned paths = 0;                 // x86 paths through the instruction's code
  double seconds = 0;                 // symbolic execution and solving
};

const char* to_string(JitProof::Verdict v);

// Proves `snippet` (the code emitted for `c`, or a planted variant of it).
// `timeout_ms` bounds the solver; 0 means no bound.
JitProof prove_snippet(const JitCase& c, const JitSnippet& snippet, unsigned timeout_ms = 0);

// Compiles `c` with the JIT and proves what it emitted.
JitProof prove_jit_case(const JitCase& c, unsigned timeout_ms = 0);

}  // namespace bpfdiff::oracle::smt
