#include "vm/program/program.hpp"

namespace bpfdiff::vm {

Result<Program> program_from_bytes(std::span<const uint8_t> bytes) {
  if (bytes.size() % isa::kSlotBytes != 0) {
    return make_error("bytecode is " + std::to_string(bytes.size()) +
                      " bytes, not a multiple of the 8-byte instruction size");
  }
  Program p;
  p.slots = isa::decode_slots(bytes);
  return p;
}

}  // namespace bpfdiff::vm
