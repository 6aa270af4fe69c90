#pragma once
// Exit statuses shared by bpfdiff and bpfdiff-plugin, so scripts can tell a
// program that faulted from one that never ran.
namespace bpfdiff::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRunFailed = 1;   // the program ran and stopped with a run-time error
inline constexpr int kExitLoadFailed = 2;  // bad input, assembly or validation error, bad usage
inline constexpr int kExitMismatch = 3;    // a .data test ran cleanly but not as its file expects

}  // namespace bpfdiff::cli
