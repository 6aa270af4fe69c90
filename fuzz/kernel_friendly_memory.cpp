// Where the kernel-friendly generator's memory accesses go: in bounds, and
// through pointers the verifier tracks (see kernel_friendly.hpp).
#include "fuzz/kernel_friendly_base.hpp"

namespace bpfdiff::fuzz::detail {

using isa::Form;

// Where the next access of `n` bytes goes: the input memory (through a
// register holding it, a fresh copy moved by a constant, or one moved by
// a masked scalar) or the stack arena. Stack and atomic accesses are
// aligned, as the verifier requires; memory ones mostly.
MemRef KernelFriendlyBase::address(unsigned n, bool atomic) {
  if (mem_size_ >= n && src_.chance(0.6)) {
    const bool aligned = atomic || src_.chance(0.75);
    const int64_t a = offset_in(0, int64_t{mem_size_} - n, n, aligned);
    const uint32_t how = src_.below(8);
    if (how < 3) {
      if (auto p = any_of(Kind::Mem)) return {*p, static_cast<int16_t>(a - reg(*p).off)};
    } else if (how < 6) {
      if (auto ref = fresh_mem_base(a, n)) return *ref;
    } else if (mem_size_ >= 2 * n + 8) {
      if (auto ref = variable_mem_base(n)) return *ref;
    }
    return {pin_, static_cast<int16_t>(a)};
  }
  const int64_t a = offset_in(-arena_, -int64_t{n}, n, true);
  if (src_.chance(0.5)) return {kFp, static_cast<int16_t>(a)};
  if (auto p = any_of(Kind::Stack); p && src_.chance(0.5)) return {*p, static_cast<int16_t>(a - reg(*p).off)};
  const uint8_t t = writable(Kind::Stack);
  if (!can_write(t, Kind::Stack)) return {kFp, static_cast<int16_t>(a)};
  const auto k = static_cast<int32_t>(src_.range(-arena_, 0));
  b_.emit_frame_address(t, k);  // only add: the verifier prohibits any subtraction from a stack pointer
  set(t, {Kind::Stack, k});
  return {t, static_cast<int16_t>(a - k)};
}

std::optional<MemRef> KernelFriendlyBase::fresh_mem_base(int64_t a, unsigned n) {
  const uint8_t t = writable(Kind::Mem);
  if (!can_write(t, Kind::Mem)) return std::nullopt;
  const auto k = static_cast<int32_t>(src_.range(0, int64_t{mem_size_} - n));
  const std::optional<uint8_t> from = any_of(Kind::Mem);
  b_.emit(isa::encode(Form::mov_reg, t, *from));
  const int32_t delta = k - reg(*from).off;
  if (delta != 0) b_.emit(isa::encode(Form::add_imm, t, 0, 0, delta));
  set(t, {Kind::Mem, k});
  return MemRef{t, static_cast<int16_t>(a - k)};
}

// `s = scalar & mask; t = mem; t += s; access [t + off]`, with mask + off
// + n within the memory: a variable offset the verifier bounds. t is left
// Mixed (its offset is not a constant).
std::optional<MemRef> KernelFriendlyBase::variable_mem_base(unsigned n) {
  const uint8_t s = writable(Kind::Scalar);
  if (!can_write(s, Kind::Scalar)) return std::nullopt;
  uint32_t mask = 1;
  while (mask * 2 <= mem_size_ - n)
    mask *= 2;
  mask = (mask - 1) & ~(n - 1);  // a multiple of n keeps aligned accesses aligned
  const uint8_t from = scalar_source();
  if (from != s) b_.emit(isa::encode(Form::mov_reg, s, from));
  set(s, {Kind::Scalar, 0});
  b_.emit(isa::encode(Form::and_imm, s, 0, 0, static_cast<int32_t>(mask)));
  uint8_t t = writable(Kind::Mixed);
  for (int i = 0; i < kFp && (t == s || !can_write(t, Kind::Mixed)); ++i)
    t = static_cast<uint8_t>((t + 1) % kFp);
  if (t == s || !can_write(t, Kind::Mixed)) return MemRef{pin_, 0};
  b_.emit(isa::encode(Form::mov_reg, t, pin_));
  b_.emit(isa::encode(Form::add_reg, t, s));
  set(t, {Kind::Mixed, 0});
  const int64_t slack = int64_t{mem_size_} - n - mask;
  const int64_t off = src_.chance(0.5) ? 0 : n * src_.below(static_cast<uint32_t>(slack / n + 1));
  return MemRef{t, static_cast<int16_t>(off)};
}

}  // namespace bpfdiff::fuzz::detail
