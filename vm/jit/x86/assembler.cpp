// Assembler state: the sticky error and the append path every form shares.
#include "vm/jit/x86/assembler.hpp"

#include <utility>

#include "vm/jit/x86/inst.hpp"

namespace bpfdiff::jit::x86 {

void Assembler::fail(std::string message) {
  if (error_.empty()) error_ = message.empty() ? std::string("x86: unspecified error") : std::move(message);
}

bool Assembler::reject(std::string_view what, std::string_view why) {
  std::string message(what);
  message += ": ";
  message += why;
  fail(std::move(message));
  return false;
}

bool Assembler::require(bool cond, std::string_view what, std::string_view why) {
  if (!ok()) return false;
  return cond || reject(what, why);
}

bool Assembler::check_mem(std::string_view what, const Mem& m) {
  return require(!(m.index && m.index->reg == Reg::rsp), what, "rsp cannot be an index register");
}

void Assembler::put(const detail::Inst& inst) {
  if (!ok()) return;
  // Byte by byte: an insert of a few bytes is a call to memmove.
  for (std::size_t i = 0; i < inst.size(); ++i)
    code_.push_back(inst.data()[i]);
}

Result<std::vector<uint8_t>> Assembler::finish() && {
  if (!ok()) return Error{error_};
  return std::move(code_);
}

}  // namespace bpfdiff::jit::x86
