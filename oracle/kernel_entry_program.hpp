#pragma once
// The one program a loader would hand the kernel for an entry point that is
// not pc 0 (an ELF object's second program, a `.data` test's `--program`):
// the entry function first, then every subprogram it reaches through local
// calls and `lddw` code addresses, in their order in the object, with those
// calls and addresses relocated. The kernel starts every program at pc 0 and
// rejects code no path reaches, so the object's other programs stay out.
//
// Functions are the ranges between consecutive function starts of the whole
// object (its programs, local-call and code-address targets, program-array
// targets), as our validator draws them, each without the code after its
// last reachable instruction (a function no one refers to any more, e.g. a
// callback of a program section the ELF loader blanked: a loader would
// leave it out, the kernel would call it unreachable). Another program of
// the object that a program array holds follows as a block of its own (its
// function, then the subprograms it reaches, copied even when the entry
// reaches them too), and the array names the block's start: the kernel
// executor cuts the program there and loads each block as a program of its
// own (oracle/kernel/program_pieces.hpp). Refused, with the reason: a jump
// that leaves its function (the kernel refuses it too, but then the verdict
// would be on a program we made up) and a call or code address outside the
// object.
#include "vm/program/program.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle {

// `program` itself when its entry is 0 and its program arrays hold no other
// of its programs; otherwise the program from its entry, starting at slot
// 0, with `entries` reduced to that one program, and the blocks of the
// programs its arrays hold after it.
Result<vm::Program> program_from_entry(const vm::Program& program);

}  // namespace bpfdiff::oracle
