#pragma once
// One Z3 context per thread for the many small queries of the quickcheck
// and the JIT proofs: creating a context and its first solver costs tens of
// milliseconds, far more than proving one instruction. Terms are reference
// counted, so a query's terms are freed when it is done with them.
#include <z3++.h>

namespace bpfdiff::oracle::smt::x86 {

z3::context& shared_context();

}  // namespace bpfdiff::oracle::smt::x86
