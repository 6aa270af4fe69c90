#pragma once
// Golden-bytes helpers for the x86 encoder tests, in the asmjit style: one
// line per instruction form, expected bytes first.
//
//   EXPECT_BYTES("4889c8", a.mov(W64, rax, rcx));  // mov rax, rcx
//
// The statement runs on a fresh Assembler named `a`; the check covers the
// bytes and that no error was recorded. The statement becomes a captureless
// lambda passed as a plain function pointer, so a file of a few hundred
// golden lines stays cheap to compile.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>

#include "vm/jit/x86/assembler.hpp"

namespace bpfdiff::jit::x86::testutil {

std::string to_hex(std::span<const uint8_t> bytes);

void expect_bytes(const char* hex, void (*emit)(Assembler&), const char* statement, const char* file,
                  int line);

}  // namespace bpfdiff::jit::x86::testutil

#define EXPECT_BYTES(hex, ...)                 \
  ::bpfdiff::jit::x86::testutil::expect_bytes( \
      hex, [](::bpfdiff::jit::x86::Assembler& a) { __VA_ARGS__; }, #__VA_ARGS__, __FILE__, __LINE__)
