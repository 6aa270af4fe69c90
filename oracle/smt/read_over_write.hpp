#pragma once
// Reads of written memory, resolved before solving. A proof's formulas read
// host memory (a byte array) after chains of stores; the array solver then
// has to reason about every store for every read, which made even a block
// charge (three stores) take seconds. Rewriting each select over a store
// into an if-then-else on the addresses -- decided right away when the two
// addresses are the same term or provably different offsets of one base --
// leaves reads of the initial memory only: a bit-vector formula in which
// those reads behave like an uninterpreted function of the address.
#include <z3++.h>

namespace bpfdiff::oracle::smt {

#include <cstdint>
#include <vector>

// A host object the caller's precondition keeps apart from every other one
// listed: addresses base + c with lo <= c < hi are its bytes.
struct DisjointObject {
  z3::expr base;
  int64_t lo;
  int64_t hi;
};

// `e` with every select over a store (or over an if-then-else of arrays)
// expanded; equivalent to `e` wherever the caller's precondition holds (two
// addresses in different `objects` are taken to differ).
z3::expr expand_reads(const z3::expr& e, const std::vector<DisjointObject>& objects = {});

// Host memory `a` equals `b`, both derived from `base` by stores: they agree
// on every address either writes (elsewhere both read `base`). Falls back
// to a comparison at `probe`, an arbitrary address, for other shapes.
z3::expr same_memory(const z3::expr& a, const z3::expr& b, const z3::expr& base, const z3::expr& probe);

}  // namespace bpfdiff::oracle::smt
