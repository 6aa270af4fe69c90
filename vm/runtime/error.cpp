#include "vm/runtime/error.hpp"

#include <cstdio>

namespace bpfdiff::vm {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::None:
      return "none";
    case ErrorKind::MemoryRead:
      return "out-of-bounds read";
    case ErrorKind::MemoryWrite:
      return "out-of-bounds write";
    case ErrorKind::BudgetExhausted:
      return "instruction budget exhausted";
    case ErrorKind::CallDepthExceeded:
      return "call depth exceeded";
    case ErrorKind::BadCallTarget:
      return "bad call target";
    case ErrorKind::UnknownHelper:
      return "unknown helper";
    case ErrorKind::HelperFailed:
      return "helper failed";
  }
  return "?";
}

std::string describe(const ExecError& e) {
  char buf[192];
  switch (e.kind) {
    case ErrorKind::MemoryRead:
    case ErrorKind::MemoryWrite:
      std::snprintf(buf, sizeof buf, "pc %u: %s of %u bytes at 0x%llx", e.pc, to_string(e.kind), e.size,
                    static_cast<unsigned long long>(e.address));
      break;
    case ErrorKind::BadCallTarget:
    case ErrorKind::UnknownHelper:
      std::snprintf(buf, sizeof buf, "pc %u: %s 0x%llx", e.pc, to_string(e.kind),
                    static_cast<unsigned long long>(e.address));
      break;
    case ErrorKind::HelperFailed:
      std::snprintf(buf, sizeof buf, "pc %u: helper failed on argument 0x%llx (%u bytes)", e.pc,
                    static_cast<unsigned long long>(e.address), e.size);
      break;
    case ErrorKind::None:
    case ErrorKind::BudgetExhausted:
    case ErrorKind::CallDepthExceeded:
      std::snprintf(buf, sizeof buf, "pc %u: %s", e.pc, to_string(e.kind));
      break;
  }
  return buf;
}

}  // namespace bpfdiff::vm
