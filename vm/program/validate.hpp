#pragma once
// The validator: the static checks every engine relies on. It is not a
// verifier (no data-flow analysis); what it cannot prove statically (memory
// bounds, termination, call depth) the engines check at run time.
#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::vm {

// Checks `program` and pre-decodes it. Errors read
// "pc 3: src: register r11 does not exist" -- the pc, the field, the reason.
Result<LoadedProgram> validate(const Program& program, const HelperRegistry& helpers);

}  // namespace bpfdiff::vm
