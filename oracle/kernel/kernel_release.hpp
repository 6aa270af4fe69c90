#pragma once
// The kernel release (uname -r, e.g. "6.12.118-cloud-amd64") as a version,
// for the features that depend on it: the ISA the verifier knows, how it
// truncates a log. Header-only, like the rest of what the guest agent links.
#include <charconv>
#include <string_view>
#include <system_error>

namespace bpfdiff::oracle::kernel {

// Whether the release is MAJOR.MINOR or later; an unparsable release counts
// as older than any.
inline bool kernel_release_at_least(std::string_view release, unsigned major, unsigned minor) {
  unsigned have_major = 0, have_minor = 0;
  const char* end = release.data() + release.size();
  const auto [p, ec] = std::from_chars(release.data(), end, have_major);
  if (ec != std::errc() || p == end || *p != '.') return false;
  if (std::from_chars(p + 1, end, have_minor).ec != std::errc()) return false;
  return have_major > major || (have_major == major && have_minor >= minor);
}

}  // namespace bpfdiff::oracle::kernel
