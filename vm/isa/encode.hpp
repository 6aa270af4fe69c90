#pragma once
// Building slots from forms: the opcode byte and the discriminating field
// come from the table, so callers (tests, generator, assembler) never spell
// opcode numbers.
#include <array>
#include <cstdint>

#include "vm/isa/raw.hpp"
#include "vm/isa/table.hpp"

namespace bpfdiff::isa {

// One-slot form. The row's discriminator overrides the field it lives in.
RawInsn encode(Form form, uint8_t dst = 0, uint8_t src = 0, int16_t off = 0, int32_t imm = 0);

// lddw and its pseudo forms: `imm` goes into the first slot, `next_imm` into the second.
std::array<RawInsn, 2> encode_lddw(Form form, uint8_t dst, int32_t imm, int32_t next_imm);
std::array<RawInsn, 2> encode_lddw_imm64(uint8_t dst, uint64_t value);

}  // namespace bpfdiff::isa
