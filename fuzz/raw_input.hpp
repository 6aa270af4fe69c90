#pragma once
// The raw-bytes fuzz input layout, the same as uBPF's fuzzer so corpora can
// be exchanged:  u32 program_length (little endian) | program | memory.
// A length larger than what follows takes everything that follows.
#include <cstdint>
#include <span>
#include <vector>

namespace bpfdiff::fuzz {

// The instruction budget of the raw-bytes targets: small enough that each
// input runs fast, large enough that loops still end by exhausting it. Tools
// replaying a raw input (repro, diff, gate) use it so a finding reproduces.
inline constexpr uint64_t kRawInputInstructionBudget = 4096;

struct RawInput {
  std::span<const uint8_t> program;  // whole 8-byte slots only; a trailing partial slot is dropped
  std::span<const uint8_t> memory;
};

// Never fails: every byte string is some input (inputs shorter than the
// length field are an empty program).
RawInput split_raw_input(std::span<const uint8_t> data);

std::vector<uint8_t> join_raw_input(std::span<const uint8_t> program, std::span<const uint8_t> memory);

}  // namespace bpfdiff::fuzz
