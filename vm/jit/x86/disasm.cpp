#include "vm/jit/x86/disasm.hpp"

#include <Zydis/Zydis.h>

#include <array>
#include <cstdio>

namespace bpfdiff::jit::x86 {

std::vector<DisasmLine> disassemble(std::span<const uint8_t> code, uint64_t base_address) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  ZydisFormatter formatter;
  ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_INTEL);
  ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, ZYAN_FALSE);
  ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_ADDR_PADDING_ABSOLUTE, ZYDIS_PADDING_DISABLED);

  std::vector<DisasmLine> lines;
  size_t offset = 0;
  while (offset < code.size()) {
    ZydisDecodedInstruction inst;
    std::array<ZydisDecodedOperand, ZYDIS_MAX_OPERAND_COUNT> ops;
    DisasmLine line;
    line.offset = offset;
    const auto* at = code.data() + offset;
    std::array<char, 256> text{};
    if (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, at, code.size() - offset, &inst, ops.data())) &&
        ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter, &inst, ops.data(),
                                                     inst.operand_count_visible, text.data(), text.size(),
                                                     base_address + offset, nullptr))) {
      line.bytes.assign(at, at + inst.length);
      line.text = text.data();
    } else {
      line.bytes.assign(at, at + 1);
      line.text = "(bad)";
      line.valid = false;
    }
    offset += line.bytes.size();
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string format_listing(std::span<const uint8_t> code, uint64_t base_address) {
  // Pad the byte column to eight bytes so short instructions line up.
  constexpr size_t kByteColumn = 8 * 3;
  std::string out;
  for (const DisasmLine& line : disassemble(code, base_address)) {
    std::array<char, 32> head{};
    std::snprintf(head.data(), head.size(),
                  "%4llx:  ", static_cast<unsigned long long>(base_address + line.offset));
    out += head.data();
    std::string bytes;
    for (uint8_t b : line.bytes) {
      std::array<char, 4> hex{};
      std::snprintf(hex.data(), hex.size(), "%02x ", b);
      bytes += hex.data();
    }
    if (bytes.size() < kByteColumn) bytes.append(kByteColumn - bytes.size(), ' ');
    out += bytes;
    out += ' ';
    out += line.text;
    out += '\n';
  }
  return out;
}

}  // namespace bpfdiff::jit::x86
