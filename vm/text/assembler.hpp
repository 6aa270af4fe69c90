#pragma once
// Text to bytecode, in the syntax of uBPF and the bpf_conformance suite:
//   mov32 r0, 0 / add r1, 2 / ldxw r0, [r1+4] / stxdw [r10-8], r1 /
//   jeq r1, 0x1, +2 (or a label) / lddw r0, 0x1122334455667788 / call 1 /
//   call local label / callx r2 / be16 r0 / exit / sdiv / smod / movsx8 /
//   ldxsw / bswap32 / lock add [r1+0], r2 / lock fetch add32 [...], r2 / ...
// Registers may be written r1 or %r1; comments start with '#' or ';'.
#include <string>
#include <string_view>

#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::text {

struct AssembleOptions {
  // When set, `call NAME` resolves helper names (e.g. bpf_map_lookup_elem).
  const vm::HelperRegistry* helpers = nullptr;
};

// Errors read "line 3, column 9: unknown register r11".
Result<vm::Program> assemble(std::string_view source, const AssembleOptions& options = {});

}  // namespace bpfdiff::text
