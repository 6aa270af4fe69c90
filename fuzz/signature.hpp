#pragma once
// A finding's signature: which engines disagree, on which field, at which
// instruction form. Two inputs with the same signature are taken to be the
// same bug, so this is what deduplicates findings everywhere: the fuzz
// targets' one-line titles, `bpfdiff repro`, the gate, the minimizer (which
// shrinks an input while its signature stays the same) and the campaign's
// triage. Stack traces cannot do this job: every divergence aborts from the
// same place.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/compare.hpp"
#include "oracle/engine.hpp"
#include "vm/program/program.hpp"

namespace bpfdiff::fuzz {

struct Signature {
  std::string reference;  // the engine taken as right, "interp"
  std::string engine;     // the engine that disagrees with it
  std::string field;      // normalize_field() of the first difference at the first divergence
  // The form (isa::FormInfo::name) of the instruction at which the engines
  // part ways; kBeforeExecution when they already differ before the first
  // instruction (one rejects the program, or the initial state differs);
  // kUnknownForm when it cannot be told.
  std::string form;
  // Where that instruction is in this program: not part of the identity,
  // since the same bug shows up at other pcs in other programs.
  std::optional<uint32_t> pc;

  bool operator==(const Signature& other) const {
    return reference == other.reference && engine == other.engine && field == other.field &&
           form == other.form;
  }

  // "divergence interp vs jit: r0 at add32_imm": what fuzz targets print
  // after "==bpfdiff== FINDING: ".
  std::string title() const;
  // "interp-vs-jit.r0.add32_imm": the same in file-name-safe characters,
  // used to name minimized tests and findings.
  std::string key() const;
};

// `s` with every character but letters, digits, '.', '_', '-' and '+'
// replaced by '_': safe in a file name and a shell word.
std::string file_safe(std::string_view s);

inline constexpr std::string_view kBeforeExecution = "program";
inline constexpr std::string_view kUnknownForm = "unknown";

// Indexes carry no identity: "memory[12]" -> "memory", "stack[500]" ->
// "stack", "helper_calls[0]" -> "helper_calls". Registers keep their number
// ("r3"); everything else is unchanged ("error.kind", "next_pc", "load").
std::string normalize_field(std::string_view field);

// Parses a title back (the campaign reads them from fuzz target output);
// nothing unless it is a divergence title made by Signature::title().
std::optional<Signature> parse_divergence_title(std::string_view title);

// The signature of the divergence between `reference` and `other` on this
// program and input, or nothing when their outcomes agree.
//
// The instruction is found by bisection on the instruction budget
// (oracle::find_first_divergence). A JIT charges its budget per basic block,
// so for a JIT the bisection names the LAST instruction of the block that
// went wrong; when that block holds more than one instruction, the program is
// run again with `ja +0` inserted after every straight-line instruction,
// which makes each of them the last of its own block, and the instruction
// named there is used (when that program still diverges on the same field).
std::optional<Signature> divergence_signature(const vm::Program& program, const oracle::EngineInput& input,
                                              oracle::Engine& reference, oracle::Engine& other);

// The first engine of `others` (in order) that disagrees with `reference`,
// and its signature.
std::optional<Signature> first_signature(const vm::Program& program, const oracle::EngineInput& input,
                                         oracle::Engine& reference,
                                         const std::vector<oracle::Engine*>& others);

// The program with `ja +0` after each straight-line instruction (ALU, byte
// order, lddw, loads, stores, atomics, packet loads) that is not the last
// slot, jumps repaired; `origin[i]` is the old pc of new slot i, or
// kInsertedSlot for the inserted jumps. Nothing when a jump no longer fits.
struct SplitProgram {
  vm::Program program;
  std::vector<std::size_t> origin;
};
std::optional<SplitProgram> split_into_single_instruction_blocks(const vm::Program& program);

}  // namespace bpfdiff::fuzz
