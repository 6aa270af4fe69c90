#pragma once
// Mutation of programs the verifier accepted, at the places where its
// judgement turns: a branch bound moved by a little or to a boundary, JMP
// turned into JMP32 and back, signed into unsigned comparisons, a sibling
// ALU operation, a load of another width, an access moved by a byte or a
// word, a 64-bit move made a zero-extending 32-bit one. The slot count and
// every jump target stay as they were, so the program's shape (and its
// validity for our validator, checked after every edit) is kept; whether
// the kernel still accepts it is the question the mutant asks.
#include <cstddef>

#include "fuzz/byte_source.hpp"
#include "vm/isa/table.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::fuzz {

// `edits` edits, each on a slot chosen by `src`; forms newer than `version`
// are never introduced. Returns a program our validator accepts (an edit
// that would break validity is dropped).
vm::Program mutate_for_verifier(const vm::Program& program, ByteSource& src, isa::IsaVersion version,
                                std::size_t edits = 2);

}  // namespace bpfdiff::fuzz
