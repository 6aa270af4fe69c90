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
#include <cstdint>
#include <span>

#include "fuzz/byte_source.hpp"
#include "fuzz/generator.hpp"
#include "vm/isa/table.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::fuzz {

// `edits` edits, each on a slot chosen by `src`; forms newer than `version`
// are never introduced. Returns a program our validator accepts (an edit
// that would break validity is dropped).
vm::Program mutate_for_verifier(const vm::Program& program, ByteSource& src, isa::IsaVersion version,
                                std::size_t edits = 2);

// Whether `program` on `memory` runs past kGeneratedInstructionBudget in our
// interpreter. Among mutants this is nearly always a loop an edit sent far
// away: a constant count made negative, a decrement made an increment, a
// 32-bit counter tested as 64 bits. The verifier walks such a loop one
// iteration at a time until its complexity limit (1M instructions) and
// rejects it with E2BIG; measured on the host, 12 such mutants (0.3% of a
// campaign's programs) took 84% of its kernel time, about 2 s each, ten
// times that under TCG.
bool runs_past_budget(const vm::Program& program, std::span<const uint8_t> memory);

// One in this many runaway mutants is kept: the verifier must still be
// asked to reject unbounded loops (a guest that hangs on one it accepted is
// a finding), just not at the rate blind edits produce them.
inline constexpr uint32_t kRunawayMutantKeep = 16;
// Fresh edits tried before a runaway mutant is kept anyway.
inline constexpr std::size_t kRunawayRedraws = 4;

// A mutant of `parent` (mutate_for_verifier with 1-3 edits) that runs
// within the budget on the parent's memory, redrawn up to kRunawayRedraws
// times otherwise; a runaway one survives at 1 in kRunawayMutantKeep.
// Deterministic in `src`.
GeneratedCase mutate_case_for_verifier(const GeneratedCase& parent, ByteSource& src, isa::IsaVersion version);

}  // namespace bpfdiff::fuzz
