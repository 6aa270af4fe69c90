#pragma once
// The 8-byte wire format of one BPF instruction slot (RFC 9669 section 3) and
// the field encodings of the opcode byte. Everything above this file talks in
// table forms (table.hpp); only decoding and encoding touch these numbers.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace bpfdiff::isa {

inline constexpr std::size_t kSlotBytes = 8;
inline constexpr int kNumRegisters = 11;  // r0..r10
inline constexpr uint8_t kFramePointer = 10;

// Instruction classes: the low three bits of the opcode.
enum class InsnClass : uint8_t { Ld = 0, Ldx = 1, St = 2, Stx = 3, Alu32 = 4, Jmp = 5, Jmp32 = 6, Alu64 = 7 };

// One slot exactly as it appears in memory, fields unpacked. Registers keep
// all four bits so that the validator can name r11..r15 when it rejects them.
struct RawInsn {
  uint8_t opcode = 0;
  uint8_t dst = 0;
  uint8_t src = 0;
  int16_t off = 0;
  int32_t imm = 0;

  bool operator==(const RawInsn&) const = default;
};

constexpr InsnClass insn_class(uint8_t opcode) {
  return static_cast<InsnClass>(opcode & 0x07);
}

// Little-endian byte order as RFC 9669 specifies for the default encoding.
RawInsn decode_slot(std::span<const uint8_t, kSlotBytes> bytes);
std::array<uint8_t, kSlotBytes> encode_slot(const RawInsn& insn);

std::vector<RawInsn> decode_slots(std::span<const uint8_t> bytes);  // caller checks size % 8
std::vector<uint8_t> encode_slots(std::span<const RawInsn> insns);

}  // namespace bpfdiff::isa
