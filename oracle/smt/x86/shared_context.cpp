#include "oracle/smt/x86/shared_context.hpp"

namespace bpfdiff::oracle::smt::x86 {

z3::context& shared_context() {
  thread_local z3::context context;
  return context;
}

}  // namespace bpfdiff::oracle::smt::x86
