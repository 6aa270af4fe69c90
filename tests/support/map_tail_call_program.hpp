#pragma once
// A program that needs its maps to mean anything: it counts its runs in an
// array map (starting from the map's initial value, 5) and tail-calls itself
// through a program array until the count passes 7, so it returns 8 after
// two tail calls. Without the maps it does not even load (its lddw name maps
// that are not there), which is what a raw fuzz input would make of it.
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/map_defs.hpp"
#include "vm/program/program.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::test_support {

inline constexpr uint64_t kMapTailCallResult = 8;
inline constexpr uint64_t kMapTailCallInitialCount = 5;

inline vm::Program map_tail_call_program() {
  auto assembled = text::assemble(R"(mov r6, r1
stw [r10-4], 0
lddw r1, map_fd(0)
mov r2, r10
add r2, -4
call 1
mov r7, 0
jeq r0, 0, +9
ldxdw r7, [r0+0]
add r7, 1
stxdw [r0+0], r7
jgt r7, 7, +5
mov r1, r6
lddw r2, map_fd(1)
mov r3, 0
call 12
mov r0, r7
exit
)");
  EXPECT_TRUE(assembled.ok()) << assembled.error().message;
  if (!assembled) return {};
  vm::Program p = std::move(assembled).value();
  p.maps = {test_support::array_map("counter", 8, 1, {kMapTailCallInitialCount, 0, 0, 0, 0, 0, 0, 0}),
            test_support::prog_array("progs", 2, {{0, 0}})};  // index 0: the program itself
  return p;
}

}  // namespace bpfdiff::test_support
