#include "tests/jit/x86_test_util.hpp"

#include "vm/jit/x86/disasm.hpp"

namespace bpfdiff::jit::x86::testutil {

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

void expect_bytes(const char* hex, void (*emit)(Assembler&), const char* statement, const char* file,
                  int line) {
  Assembler a;
  emit(a);
  if (!a.ok()) {
    ADD_FAILURE_AT(file, line) << statement << " was rejected: " << a.error();
    return;
  }
  const std::string got = to_hex(a.code());
  if (got != hex) {
    ADD_FAILURE_AT(file, line) << statement << "\n  expected " << hex << "\n  emitted  " << got << "\n"
                               << format_listing(a.code());
  }
}

}  // namespace bpfdiff::jit::x86::testutil
