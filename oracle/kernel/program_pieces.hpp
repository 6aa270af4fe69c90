#pragma once
// Tail calls into another part of the same bytecode, in the kernel.
//
// Our VM's program array names slots of the one program it runs: a tail
// call to index k continues at that slot in a zeroed frame. The kernel's
// program array holds whole programs. So a request whose program arrays
// name slots other than 0 is cut into pieces, one kernel program each:
// slot 0 starts the first (the program the test run enters), and each
// named slot starts the piece that runs up to the next named slot or the
// end. The executor wraps and loads every piece and puts each piece's
// program at the indexes that name its slot.
//
// A cut must not change what any instruction means, so a piece must be a
// program on its own: every branch, local call and function address stays
// inside it, and every piece but the last ends with an exit or an
// unconditional jump (in our VM the code before a target could otherwise
// run on into it; in the kernel it would fall off its piece's end). A
// program that does not cut cleanly is refused with the reason (not run on
// the kernel, never a difference).
#include <cstdint>
#include <span>
#include <vector>

#include "oracle/kernel/kernel_request.hpp"
#include "vm/isa/raw.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel {

struct ProgramPiece {
  uint32_t start = 0;  // the slot of the whole program it begins at
  std::span<const isa::RawInsn> insns;
};

// The slots other than 0 that the request's program arrays name, sorted,
// each once.
std::vector<uint32_t> tail_call_target_slots(std::span<const KernelMap> maps);

// The program cut at `targets` (as tail_call_target_slots gives them):
// one piece when there are none. Fails with the reason when a target lies
// outside the program or inside an lddw, or a piece is not a program on
// its own.
Result<std::vector<ProgramPiece>> cut_into_pieces(std::span<const isa::RawInsn> program,
                                                  std::span<const uint32_t> targets);

}  // namespace bpfdiff::oracle::kernel
