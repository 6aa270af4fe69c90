#include "oracle/kernel/guest/kmsg_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace bpfdiff::oracle::kernel::guest {

Result<std::unique_ptr<KernelMessageReader>> KernelMessageReader::open(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return make_error(std::string(path) + ": " + std::strerror(errno));
  // /dev/kmsg seeks to the end of the log with SEEK_END (and only there).
  if (::lseek(fd, 0, SEEK_END) < 0) {
    const int err = errno;
    ::close(fd);
    return make_error(std::string("lseek of ") + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<KernelMessageReader>(new KernelMessageReader(fd));
}

KernelMessageReader::~KernelMessageReader() {
  ::close(fd_);
}

std::string console_line_of_kmsg_record(std::string_view record) {
  const std::size_t semicolon = record.find(';');
  if (semicolon == std::string_view::npos) return "";
  // The header's third field is the time stamp in microseconds.
  const std::string_view header = record.substr(0, semicolon);
  const std::size_t first = header.find(',');
  unsigned priority = 0;
  if (first == std::string_view::npos ||
      std::from_chars(header.data(), header.data() + first, priority).ec != std::errc())
    return "";
  if (static_cast<int>(priority & 7) >= kFirstQuietLevel) return "";
  const std::size_t second = first == std::string_view::npos ? first : header.find(',', first + 1);
  if (second == std::string_view::npos) return "";
  const std::size_t third = header.find(',', second + 1);
  const std::string_view stamp =
      header.substr(second + 1, third == std::string_view::npos ? third : third - second - 1);
  unsigned long long us = 0;
  if (std::from_chars(stamp.data(), stamp.data() + stamp.size(), us).ec != std::errc()) return "";
  // The text ends at the first newline; continuation lines are dictionary
  // entries (SUBSYSTEM=..., DEVICE=...), not part of the message.
  std::string_view text = record.substr(semicolon + 1);
  text = text.substr(0, text.find('\n'));
  char prefix[40];
  std::snprintf(prefix, sizeof prefix, "[%5llu.%06llu] ", us / 1000000, us % 1000000);
  return std::string(prefix) + std::string(text) + "\n";
}

std::string KernelMessageReader::take() {
  std::string out;
  // One read() returns one record; the kernel's records are under 8 KiB.
  std::array<char, 8192> buf;
  for (;;) {
    const ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n > 0) {
      out += console_line_of_kmsg_record(std::string_view(buf.data(), static_cast<std::size_t>(n)));
      continue;
    }
    // EPIPE: records were overwritten before we read them; the read
    // position has moved on to the oldest one left, so go on reading.
    if (n < 0 && errno == EPIPE) {
      out += "[kmsg: some messages were overwritten before the agent read them]\n";
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return out;  // EAGAIN: nothing more
  }
}

}  // namespace bpfdiff::oracle::kernel::guest
