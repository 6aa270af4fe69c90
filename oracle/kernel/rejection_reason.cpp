#include "oracle/kernel/rejection_reason.hpp"

#include <cctype>
#include <vector>

#include "oracle/kernel/bpf_syscall.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

constexpr std::size_t kMaxReasonChars = 96;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Lines the verifier prints after the error, or that never are the error:
// statistics, per-subprogram stack depths, verification time.
bool is_trailer(std::string_view line) {
  return line.empty() || starts_with(line, "processed ") || starts_with(line, "verification time") ||
         starts_with(line, "stack depth");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}
bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// Numbers become '#': decimal, hex (0x..), signed and offset forms such as
// "-8+0" collapse into one '#'. A number right after 'R' or 'r' (a register)
// stays a register: "R#".
std::string normalize(std::string_view line) {
  std::string out;
  std::size_t i = 0;
  while (i < line.size() && out.size() < kMaxReasonChars) {
    const char c = line[i];
    const bool number_start =
        is_digit(c) || ((c == '-' || c == '+') && i + 1 < line.size() && is_digit(line[i + 1]));
    const auto word_char = [&](std::size_t k) {
      return std::isalnum(static_cast<unsigned char>(line[k])) != 0 || line[k] == '_';
    };
    const bool after_register_letter =
        i > 0 && (line[i - 1] == 'R' || line[i - 1] == 'r') && (i < 2 || !word_char(i - 2));
    const bool inside_word = i > 0 && word_char(i - 1) && !after_register_letter;
    if (!number_start || inside_word) {
      out += c;
      ++i;
      continue;
    }
    // One '#' for a run such as "12", "0x1f" or an offset chain "-8+0".
    if (c == '-' || c == '+') ++i;
    if (line.substr(i, 2) == "0x") {
      i += 2;
      while (i < line.size() && is_hex(line[i]))
        ++i;
    } else {
      while (i < line.size() && is_digit(line[i]))
        ++i;
      // Hex without 0x, as in "unknown opcode 8d": letters a-f that end the token.
      std::size_t j = i;
      while (j < line.size() && std::isxdigit(static_cast<unsigned char>(line[j])) && !is_digit(line[j]))
        ++j;
      if (j > i && (j == line.size() || !word_char(j))) i = j;
    }
    while (i + 1 < line.size() && (line[i] == '+' || line[i] == '-') && is_digit(line[i + 1])) {
      ++i;
      while (i < line.size() && is_digit(line[i]))
        ++i;
    }
    out += '#';
  }
  return out;
}

}  // namespace

std::string_view last_log_line(std::string_view log) {
  std::string_view best;
  while (!log.empty()) {
    const std::size_t nl = log.find('\n');
    const std::string_view line = trim(log.substr(0, nl));
    if (!is_trailer(line)) best = line;
    if (nl == std::string_view::npos) break;
    log.remove_prefix(nl + 1);
  }
  return best;
}

std::string rejection_reason(std::string_view log, int errno_value) {
  const std::string_view line = last_log_line(log);
  if (line.empty()) return errno_name(errno_value) + " (no verifier log)";
  return normalize(line);
}

}  // namespace bpfdiff::oracle::kernel
