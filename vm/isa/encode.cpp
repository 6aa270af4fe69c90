#include "vm/isa/encode.hpp"

namespace bpfdiff::isa {

RawInsn encode(Form form, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  const FormInfo& fi = info(form);
  RawInsn r{fi.opcode, dst, src, off, imm};
  switch (fi.disc) {
    case Disc::None:
      break;
    case Disc::Off:
      r.off = static_cast<int16_t>(fi.disc_value);
      break;
    case Disc::Imm:
      r.imm = fi.disc_value;
      break;
    case Disc::Src:
      r.src = static_cast<uint8_t>(fi.disc_value);
      break;
  }
  return r;
}

std::array<RawInsn, 2> encode_lddw(Form form, uint8_t dst, int32_t imm, int32_t next_imm) {
  return {encode(form, dst, 0, 0, imm), RawInsn{0, 0, 0, 0, next_imm}};
}

std::array<RawInsn, 2> encode_lddw_imm64(uint8_t dst, uint64_t value) {
  return encode_lddw(Form::lddw, dst, static_cast<int32_t>(static_cast<uint32_t>(value)),
                     static_cast<int32_t>(static_cast<uint32_t>(value >> 32)));
}

}  // namespace bpfdiff::isa
