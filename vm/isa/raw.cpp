#include "vm/isa/raw.hpp"

namespace bpfdiff::isa {

RawInsn decode_slot(std::span<const uint8_t, kSlotBytes> b) {
  RawInsn insn;
  insn.opcode = b[0];
  insn.dst = b[1] & 0x0f;
  insn.src = static_cast<uint8_t>(b[1] >> 4);
  insn.off = static_cast<int16_t>(static_cast<uint16_t>(b[2] | (b[3] << 8)));
  insn.imm = static_cast<int32_t>(static_cast<uint32_t>(b[4]) | (static_cast<uint32_t>(b[5]) << 8) |
                                  (static_cast<uint32_t>(b[6]) << 16) | (static_cast<uint32_t>(b[7]) << 24));
  return insn;
}

std::array<uint8_t, kSlotBytes> encode_slot(const RawInsn& insn) {
  const auto off = static_cast<uint16_t>(insn.off);
  const auto imm = static_cast<uint32_t>(insn.imm);
  return {insn.opcode,
          static_cast<uint8_t>((insn.dst & 0x0f) | ((insn.src & 0x0f) << 4)),
          static_cast<uint8_t>(off & 0xff),
          static_cast<uint8_t>(off >> 8),
          static_cast<uint8_t>(imm & 0xff),
          static_cast<uint8_t>((imm >> 8) & 0xff),
          static_cast<uint8_t>((imm >> 16) & 0xff),
          static_cast<uint8_t>(imm >> 24)};
}

std::vector<RawInsn> decode_slots(std::span<const uint8_t> bytes) {
  std::vector<RawInsn> out;
  out.reserve(bytes.size() / kSlotBytes);
  for (std::size_t i = 0; i + kSlotBytes <= bytes.size(); i += kSlotBytes) {
    out.push_back(decode_slot(bytes.subspan(i).first<kSlotBytes>()));
  }
  return out;
}

std::vector<uint8_t> encode_slots(std::span<const RawInsn> insns) {
  std::vector<uint8_t> out;
  out.reserve(insns.size() * kSlotBytes);
  for (const RawInsn& insn : insns) {
    const auto slot = encode_slot(insn);
    out.insert(out.end(), slot.begin(), slot.end());
  }
  return out;
}

}  // namespace bpfdiff::isa
