#include "vm/runtime/printk.hpp"

#include <cstdio>
#include <cstring>

namespace bpfdiff::vm {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// The kernel refuses formats with bytes that are neither printable ASCII nor
// white space.
bool allowed_in_format(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x20 && u < 0x7f) || u == '\t' || u == '\n' || u == '\v' || u == '\f' || u == '\r';
}

template <class... T>
void append(std::string& out, const std::string& spec, T... value) {
  char buf[kMaxPrintkOutput + 1];
  const int n = std::snprintf(buf, sizeof buf, spec.c_str(), value...);
  if (n > 0) out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

// Reads a NUL-terminated string of at most kMaxPrintkString bytes, one
// checked byte at a time (its length is unknown, so its end may be the end
// of a region). False after recording HelperFailed on an unreadable byte.
bool read_string(HelperCall& call, uint64_t addr, std::string& s) {
  for (std::size_t i = 0; i < kMaxPrintkString; ++i) {
    const uint8_t* p = call.access(addr + i, 1, false);
    if (p == nullptr) return false;
    if (*p == 0) return true;
    s += static_cast<char>(*p);
  }
  return true;
}

}  // namespace

bool format_printk(HelperCall& call, std::string_view fmt, const uint64_t (&args)[3], std::string& out) {
  const std::size_t n = fmt.size();
  std::size_t used = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = fmt[i];
    if (!allowed_in_format(c)) return false;
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 1 < n && fmt[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    if (used == 3) return false;  // the helper takes three arguments
    std::string spec = "%";
    std::size_t j = i + 1;
    while (j < n && (fmt[j] == '0' || fmt[j] == '+' || fmt[j] == '-' || fmt[j] == ' '))
      spec += fmt[j++];
    std::size_t width_digits = 0;
    while (j < n && is_digit(fmt[j])) {
      spec += fmt[j++];
      ++width_digits;
    }
    if (width_digits > 3 || j >= n) return false;  // widths past 999 would only pad past the buffer
    const uint64_t arg = args[used++];
    const char conv = fmt[j];
    if (conv == 'p') {
      // %pK, %px, %pI4 and the other pointer extensions are not supported.
      if (j + 1 < n && is_alnum(fmt[j + 1])) return false;
      char hex[24];
      std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(arg));
      append(out, spec + "s", hex);
    } else if (conv == 'c') {
      append(out, spec + "c", static_cast<int>(static_cast<unsigned char>(arg)));
    } else if (conv == 's') {
      std::string s;
      const bool readable = read_string(call, arg, s);
      append(out, spec + "s", s.c_str());
      if (!readable) return true;  // the HelperFailed error ends the run
    } else {
      int longs = 0;
      while (j < n && fmt[j] == 'l' && longs < 2) {
        ++longs;
        ++j;
      }
      if (j >= n) return false;
      const char d = fmt[j];
      if (d != 'd' && d != 'i' && d != 'u' && d != 'x' && d != 'X') return false;
      const bool is_signed = d == 'd' || d == 'i';
      if (longs == 0) {
        // Without l the argument is an int: its low 32 bits.
        const auto low = static_cast<uint32_t>(arg);
        if (is_signed) {
          append(out, spec + d, static_cast<int>(static_cast<int32_t>(low)));
        } else {
          append(out, spec + d, static_cast<unsigned>(low));
        }
      } else if (is_signed) {
        append(out, spec + "ll" + d, static_cast<long long>(arg));
      } else {
        append(out, spec + "ll" + d, static_cast<unsigned long long>(arg));
      }
    }
    i = j;
  }
  return true;
}

}  // namespace bpfdiff::vm
