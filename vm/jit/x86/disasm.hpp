#pragma once
// Intel-syntax listing of x86-64 machine code (Zydis), for
// `bpfdiff disasm --x86` and for failure messages in the encoder tests.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace bpfdiff::jit::x86 {

struct DisasmLine {
  size_t offset = 0;           // from the start of the range
  std::vector<uint8_t> bytes;  // the instruction's bytes (one byte when undecodable)
  std::string text;            // e.g. "mov rax, 0x2a"; "(bad)" when undecodable
  bool valid = true;
};

// Decodes `code` instruction by instruction. An undecodable byte becomes a
// one-byte "(bad)" line and decoding resumes at the next byte. Relative
// branch targets are printed as absolute addresses from `base_address`.
std::vector<DisasmLine> disassemble(std::span<const uint8_t> code, uint64_t base_address = 0);

// One line per instruction: "<offset hex, 4+ digits>:  <bytes>  <text>\n".
std::string format_listing(std::span<const uint8_t> code, uint64_t base_address = 0);

}  // namespace bpfdiff::jit::x86
