#pragma once
// Shared helpers for the text tests: assembling with a readable failure.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "vm/isa/encode.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::text::testing {

inline std::vector<isa::RawInsn> assemble_ok(std::string_view source, const AssembleOptions& options = {}) {
  auto result = assemble(source, options);
  EXPECT_TRUE(result.ok()) << "source: " << source
                           << "\nerror: " << (result.ok() ? "" : result.error().message);
  if (!result.ok()) return {};
  return result->slots;
}

inline std::string assemble_error(std::string_view source) {
  auto result = assemble(source);
  EXPECT_FALSE(result.ok()) << "expected an error for: " << source;
  return result.ok() ? std::string() : result.error().message;
}

inline std::vector<isa::RawInsn> slots(std::initializer_list<isa::RawInsn> list) {
  return list;
}

inline std::vector<isa::RawInsn> lddw_slots(const std::array<isa::RawInsn, 2>& pair) {
  return {pair[0], pair[1]};
}

}  // namespace bpfdiff::text::testing
