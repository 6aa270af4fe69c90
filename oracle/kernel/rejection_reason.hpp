#pragma once
// A short, stable name for why the verifier rejected a program, taken from
// the last meaningful line of its log with the numbers taken out, so that
// rejections can be counted by reason across thousands of programs:
//   "R1 invalid mem access 'scalar'"      -> "R# invalid mem access 'scalar'"
//   "invalid read from stack off -8+0 size 8" -> "invalid read from stack off # size #"
//   "back-edge from insn 7 to 3"          -> "back-edge from insn # to #"
// Without a log, the errno names the reason ("EINVAL (no verifier log)").
#include <string>
#include <string_view>

namespace bpfdiff::oracle::kernel {

std::string rejection_reason(std::string_view log, int errno_value);

// The line the reason is taken from, verbatim (for people).
std::string_view last_log_line(std::string_view log);

}  // namespace bpfdiff::oracle::kernel
