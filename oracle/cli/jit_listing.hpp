#pragma once
// `bpfdiff disasm --x86`: each BPF instruction followed by the x86-64 code
// the JIT made of it, then the shared out-of-line code (fault and budget
// stubs, epilogue).
#include <string>

#include "vm/jit/options.hpp"
#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

Result<std::string> jit_listing(const vm::Program& program, const vm::HelperRegistry& helpers,
                                const jit::JitOptions& options);

}  // namespace bpfdiff::cli
