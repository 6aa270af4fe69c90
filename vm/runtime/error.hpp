#pragma once
// Run-time errors: what stops a program, where, and on which address. Every
// engine reports the same ExecError for the same program and input; the
// differential harness compares them field by field.
#include <cstdint>
#include <string>

namespace bpfdiff::vm {

enum class ErrorKind : uint8_t {
  None,
  MemoryRead,         // load outside every live region
  MemoryWrite,        // store or atomic (one read-modify-write access) outside the live
                      // regions or into a read-only one
  BudgetExhausted,    // instruction budget used up
  CallDepthExceeded,  // a local call beyond the call-depth limit
  BadCallTarget,      // callx on a value that is neither a function address nor a helper id
  UnknownHelper,      // callx on a helper id that is not registered
  HelperFailed,       // a helper rejected its arguments
};

struct ExecError {
  ErrorKind kind = ErrorKind::None;
  uint32_t pc = 0;       // slot index of the faulting instruction
  uint64_t address = 0;  // memory errors: the first byte accessed; calls: the target value
  uint32_t size = 0;     // memory errors: access width in bytes

  bool operator==(const ExecError&) const = default;
};

const char* to_string(ErrorKind kind);
std::string describe(const ExecError& error);  // "pc 4: out-of-bounds read of 4 bytes at 0x200000010"

}  // namespace bpfdiff::vm
