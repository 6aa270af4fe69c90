#pragma once
// bpf_trace_printk's formatting: the subset of printf the kernel accepts
// (%d %i %u %x %X with l/ll, %c, %s, %p, %%, with the flags "0+- " and a
// width), at most three conversions. %s strings are read through the run's
// address space like every other access.
#include <cstdint>
#include <string>
#include <string_view>

#include "vm/runtime/helpers.hpp"

namespace bpfdiff::vm {

// Longest trace_printk output kept (the kernel's buffer size minus the NUL).
inline constexpr std::size_t kMaxPrintkOutput = 1023;
// Longest %s argument read.
inline constexpr std::size_t kMaxPrintkString = 511;

// Formats `fmt` (without its NUL) with args[0..2] into `out`. Returns false
// for a format the kernel rejects (-EINVAL). A %s pointer that cannot be read
// records HelperFailed in `call` (and returns true with partial output).
bool format_printk(HelperCall& call, std::string_view fmt, const uint64_t (&args)[3], std::string& out);

}  // namespace bpfdiff::vm
