#pragma once
// Programs whose map operation fails, for the tests of the known kernel bug
// corpus/kernel-findings/map-op-result-zero-extended (a failed update or
// delete's -ENOENT reaching r0 zero-extended on Linux before 6.4).
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "vm/program/program.hpp"
#include "vm/text/assembler.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::test_support {

// Update with BPF_EXIST of an absent key of a hash map: r0 = -ENOENT.
inline constexpr char kUpdateAbsentKey[] = R"(-- map-def hash
type hash
key_size 4
value_size 16
max_entries 3
-- asm
stw [r10-8], 0
lddw r1, map_idx(0)
mov r2, r10
add r2, -8
stdw [r10-24], 0
stdw [r10-16], 0
mov r3, r10
add r3, -24
mov r4, 2
call 2
exit
)";

// Delete of an absent key: r0 = -ENOENT.
inline constexpr char kDeleteAbsentKey[] = R"(-- map-def hash
type hash
key_size 4
value_size 16
max_entries 3
-- asm
stw [r10-8], 0
lddw r1, map_idx(0)
mov r2, r10
add r2, -8
call 3
exit
)";

// The program (maps included) of a .data test's text; a failed parse or
// assembly fails the calling test.
inline vm::Program program_of(std::string_view data_test) {
  auto test = text::parse_data_test(data_test);
  EXPECT_TRUE(test) << test.error().message;
  if (!test) return {};
  auto program = text::assemble(test->asm_source);
  EXPECT_TRUE(program) << program.error().message;
  if (!program) return {};
  program->maps = test->maps;
  return *program;
}

}  // namespace bpfdiff::test_support
