#pragma once
// Z3-backed stand-ins for C++'s fixed-width integer types, so that integer
// code written as a template over its value types (vm/runtime/
// semantics_impl.hpp) can be instantiated symbolically and proved for all
// inputs.
//
// SymInt<W, Signed> behaves as the C++ type of that width and signedness:
//  - the usual arithmetic conversions: operands narrower than int are
//    promoted to int, then the common type is taken (same signedness: the
//    wider; mixed: the unsigned one unless the signed one is wider);
//  - conversions between widths truncate or extend by the source's
//    signedness; arithmetic wraps modulo 2^W (signed included, as C++20
//    defines conversions and shifts; signed + - * overflow is not used by the
//    code under check, which computes on unsigned types);
//  - `/`, `%` and shifts record the conditions under which C++ defines them
//    as obligations of the current path (divisor non-zero, no INT_MIN / -1,
//    shift count below the promoted width), which the check proves too;
//  - comparisons give SymBool, whose conversion to bool forks the path
//    (path_explorer.hpp).
// Values may only be created while a PathExplorer is exploring.
#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>

#include <z3++.h>

#include "oracle/smt/path_explorer.hpp"

namespace bpfdiff::oracle::smt {

class SymBool {
 public:
  SymBool(bool b) : e_(PathExplorer::current().ctx().bool_val(b)) {}  // NOLINT: as bool converts
  explicit SymBool(z3::expr e) : e_(std::move(e)) {}

  // Branching on the value: the explorer decides and records the condition.
  explicit operator bool() const { return PathExplorer::current().decide(e_); }
  const z3::expr& expr() const { return e_; }

 private:
  z3::expr e_;
};

template <unsigned W, bool Signed>
class SymInt {
  static_assert(W == 8 || W == 16 || W == 32 || W == 64);

 public:
  static constexpr unsigned kBits = W;
  static constexpr bool kSigned = Signed;

  // From a C++ integer (literals, constants of the code): converted modulo
  // 2^W as C++ converts.
  template <std::integral T>
  SymInt(T v)  // NOLINT: implicit like the integer conversions it stands for
      : e_(PathExplorer::current().ctx().bv_val(static_cast<uint64_t>(v) & mask(), W)) {}
  explicit SymInt(z3::expr e) : e_(std::move(e)) {}

  // Between widths and signedness: truncate, or extend by the source's sign.
  template <unsigned W2, bool S2>
  SymInt(const SymInt<W2, S2>& o)  // NOLINT: implicit like the integer conversions
      : e_(convert(o.expr(), W2, S2)) {}

  const z3::expr& expr() const { return e_; }

 private:
  static constexpr uint64_t mask() { return W == 64 ? ~uint64_t{0} : (uint64_t{1} << W) - 1; }
  static z3::expr convert(const z3::expr& e, unsigned from, bool from_signed) {
    if (from == W) return e;
    if (from > W) return e.extract(W - 1, 0);
    return from_signed ? z3::sext(e, W - from) : z3::zext(e, W - from);
  }

  z3::expr e_;
};

namespace sym_detail {

template <class T>
struct IsSym : std::false_type {};
template <unsigned W, bool S>
struct IsSym<SymInt<W, S>> : std::true_type {};

template <class T>
concept Sym = IsSym<T>::value;

// The symbolic type standing for a C++ integer type.
template <std::integral T>
using SymOf = SymInt<8 * sizeof(T), std::is_signed_v<T>>;

// Integral promotion: types narrower than int become int.
template <Sym T>
using Promoted = std::conditional_t<(T::kBits < 32), SymInt<32, true>, T>;

template <Sym A, Sym B>
struct CommonOf {
  using PA = Promoted<A>;
  using PB = Promoted<B>;
  static constexpr unsigned kWidth = PA::kBits > PB::kBits ? PA::kBits : PB::kBits;
  // Same signedness: the wider. Mixed: unsigned unless the signed one is wider.
  static constexpr bool kSigned = PA::kSigned == PB::kSigned
                                      ? PA::kSigned
                                      : (PA::kSigned ? PA::kBits > PB::kBits : PB::kBits > PA::kBits);
  using type = SymInt<kWidth, kSigned>;
};
template <Sym A, Sym B>
using Common = typename CommonOf<A, B>::type;

// Either operand may be a plain C++ integer.
template <class T>
concept Operand = Sym<T> || std::integral<T>;
template <Operand T>
struct AsSymOf {
  using type = T;
};
template <std::integral T>
struct AsSymOf<T> {
  using type = SymOf<T>;
};
template <Operand T>
using AsSym = typename AsSymOf<T>::type;

template <class A, class B>
concept MixedOperands = Operand<A> && Operand<B> &&(Sym<A> || Sym<B>);

template <class A, class B>
using CommonOp = Common<AsSym<A>, AsSym<B>>;

template <class C, class T>
z3::expr as(const T& v) {
  return C(AsSym<T>(v)).expr();
}

inline z3::context& ctx() {
  return PathExplorer::current().ctx();
}

}  // namespace sym_detail

// Arithmetic and bitwise operators: on the common type, wrapping.
#define BPFDIFF_SYM_BINARY(op, make)                                  \
  template <class A, class B>                                         \
  requires sym_detail::MixedOperands<A, B> sym_detail::CommonOp<A, B> \
  operator op(const A& a, const B& b) {                               \
    using C = sym_detail::CommonOp<A, B>;                             \
    const z3::expr x = sym_detail::as<C>(a);                          \
    const z3::expr y = sym_detail::as<C>(b);                          \
    return C(make);                                                   \
  }
BPFDIFF_SYM_BINARY(+, x + y)
BPFDIFF_SYM_BINARY(-, x - y)
BPFDIFF_SYM_BINARY(*, x* y)
BPFDIFF_SYM_BINARY(&, x& y)
BPFDIFF_SYM_BINARY(|, x | y)
BPFDIFF_SYM_BINARY(^, x ^ y)
#undef BPFDIFF_SYM_BINARY

// Division and remainder: defined when the divisor is non-zero and, for signed
// types, when the quotient is representable (not INT_MIN / -1).
template <class C>
void require_division_defined(const z3::expr& x, const z3::expr& y) {
  PathExplorer& ex = PathExplorer::current();
  const unsigned w = C::kBits;
  ex.require(y != ex.ctx().bv_val(0, w), "division by zero");
  if constexpr (C::kSigned) {
    const z3::expr min = ex.ctx().bv_val(uint64_t{1} << (w - 1), w);
    const z3::expr minus_one = ex.ctx().bv_val(~uint64_t{0} >> (64 - w), w);
    ex.require(!(x == min && y == minus_one), "signed division overflow (INT_MIN / -1)");
  }
}

template <class A, class B>
requires sym_detail::MixedOperands<A, B> sym_detail::CommonOp<A, B>
operator/(const A& a, const B& b) {
  using C = sym_detail::CommonOp<A, B>;
  const z3::expr x = sym_detail::as<C>(a);
  const z3::expr y = sym_detail::as<C>(b);
  require_division_defined<C>(x, y);
  if constexpr (C::kSigned) {
    return C(x / y);  // bvsdiv truncates toward zero, as C++ does
  } else {
    return C(z3::udiv(x, y));
  }
}

template <class A, class B>
requires sym_detail::MixedOperands<A, B> sym_detail::CommonOp<A, B>
operator%(const A& a, const B& b) {
  using C = sym_detail::CommonOp<A, B>;
  const z3::expr x = sym_detail::as<C>(a);
  const z3::expr y = sym_detail::as<C>(b);
  require_division_defined<C>(x, y);
  if constexpr (C::kSigned) {
    return C(z3::srem(x, y));  // C++'s % takes the sign of the dividend
  } else {
    return C(z3::urem(x, y));
  }
}

// Shifts: the result has the promoted type of the left operand; the count
// must lie in [0, width).
template <class A, class B>
z3::expr shift_count(const B& count) {
  using L = sym_detail::Promoted<sym_detail::AsSym<A>>;
  using N = sym_detail::AsSym<B>;
  const N n(count);
  PathExplorer& ex = PathExplorer::current();
  // Compared as an unsigned value of at least 64 bits, a negative count is
  // huge, so one unsigned compare covers both ways of being undefined.
  const z3::expr wide = SymInt<64, false>(SymInt<64, N::kSigned>(n)).expr();
  ex.require(z3::ult(wide, ex.ctx().bv_val(L::kBits, 64)),
             "shift count out of range for " + std::to_string(L::kBits) + " bits");
  return SymInt<L::kBits, false>(n).expr();
}

template <class A, class B>
requires sym_detail::MixedOperands<A, B> sym_detail::Promoted<sym_detail::AsSym<A>>
operator<<(const A& a, const B& b) {
  using L = sym_detail::Promoted<sym_detail::AsSym<A>>;
  return L(z3::shl(sym_detail::as<L>(a), shift_count<A, B>(b)));
}

template <class A, class B>
requires sym_detail::MixedOperands<A, B> sym_detail::Promoted<sym_detail::AsSym<A>>
operator>>(const A& a, const B& b) {
  using L = sym_detail::Promoted<sym_detail::AsSym<A>>;
  const z3::expr n = shift_count<A, B>(b);
  if constexpr (L::kSigned) {
    return L(z3::ashr(sym_detail::as<L>(a), n));  // C++20: arithmetic for signed
  } else {
    return L(z3::lshr(sym_detail::as<L>(a), n));
  }
}

template <sym_detail::Sym A>
sym_detail::Promoted<A> operator~(const A& a) {
  using L = sym_detail::Promoted<A>;
  return L(~L(a).expr());
}

template <sym_detail::Sym A>
sym_detail::Promoted<A> operator-(const A& a) {
  using L = sym_detail::Promoted<A>;
  return L(-L(a).expr());
}

// Comparisons on the common type; signed types compare signed.
#define BPFDIFF_SYM_COMPARE(op, make_signed, make_unsigned)                              \
  template <class A, class B>                                                            \
  requires sym_detail::MixedOperands<A, B> SymBool operator op(const A& a, const B& b) { \
    using C = sym_detail::CommonOp<A, B>;                                                \
    const z3::expr x = sym_detail::as<C>(a);                                             \
    const z3::expr y = sym_detail::as<C>(b);                                             \
    if constexpr (C::kSigned) {                                                          \
      return SymBool(make_signed);                                                       \
    } else {                                                                             \
      return SymBool(make_unsigned);                                                     \
    }                                                                                    \
  }
BPFDIFF_SYM_COMPARE(==, x == y, x == y)
BPFDIFF_SYM_COMPARE(!=, x != y, x != y)
BPFDIFF_SYM_COMPARE(<, x < y, z3::ult(x, y))
BPFDIFF_SYM_COMPARE(<=, x <= y, z3::ule(x, y))
BPFDIFF_SYM_COMPARE(>, x > y, z3::ugt(x, y))
BPFDIFF_SYM_COMPARE(>=, x >= y, z3::uge(x, y))
#undef BPFDIFF_SYM_COMPARE

// The value types of semantics_impl.hpp, symbolic.
struct SymDomain {
  using Bool = SymBool;
  using U16 = SymInt<16, false>;
  using U32 = SymInt<32, false>;
  using U64 = SymInt<64, false>;
  using S8 = SymInt<8, true>;
  using S16 = SymInt<16, true>;
  using S32 = SymInt<32, true>;
  using S64 = SymInt<64, true>;
};

}  // namespace bpfdiff::oracle::smt
