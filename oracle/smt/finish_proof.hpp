#pragma once
// How every proof ends, whatever it proves (an ALU form, a memory access, a
// call or exit): its verdict, why, and the time since `start`. One template
// rather than a lambda per prover, so each proof kind records its time the
// same way; it returns the proof so a prover can `return finish_proof(...)`.
#include <chrono>
#include <string>
#include <utility>

namespace bpfdiff::oracle::smt {

template <typename Proof>
Proof finish_proof(Proof& proof, std::chrono::steady_clock::time_point start, typename Proof::Verdict verdict,
                   std::string detail) {
  proof.verdict = verdict;
  proof.detail = std::move(detail);
  proof.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return proof;
}

}  // namespace bpfdiff::oracle::smt
