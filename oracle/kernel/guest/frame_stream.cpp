#include "oracle/kernel/guest/frame_stream.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bpfdiff::oracle::kernel::guest {
namespace {

constexpr std::array<uint8_t, 4> kMagicBytes = {
    static_cast<uint8_t>(kMagic), static_cast<uint8_t>(kMagic >> 8), static_cast<uint8_t>(kMagic >> 16),
    static_cast<uint8_t>(kMagic >> 24)};

// Milliseconds until `deadline` for poll(), -1 for none, 0 once it has passed.
int poll_timeout(std::optional<Clock::time_point> deadline) {
  if (!deadline) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

// Waits for `events` on fd; false on timeout. POLLHUP/POLLERR count as ready
// so the following read or write reports what happened.
bool wait_for(int fd, short events, std::optional<Clock::time_point> deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, poll_timeout(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return true;  // let the read/write report the error
  }
}

}  // namespace

FrameStream::Fill FrameStream::fill(std::optional<Clock::time_point> deadline, std::string& error) {
  if (!wait_for(fd_, POLLIN, deadline)) return Fill::Timeout;
  uint8_t chunk[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      buffer_.insert(buffer_.end(), chunk, chunk + n);
      return Fill::Data;
    }
    if (n == 0) return Fill::Closed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return deadline && Clock::now() >= *deadline ? Fill::Timeout : Fill::Data;
    error = std::string("read: ") + std::strerror(errno);
    return errno == ECONNRESET ? Fill::Closed : Fill::Failed;
  }
}

std::size_t FrameStream::skip_to_magic(std::size_t from) {
  auto it = std::search(buffer_.begin() + static_cast<std::ptrdiff_t>(std::min(from, buffer_.size())),
                        buffer_.end(), kMagicBytes.begin(), kMagicBytes.end());
  if (it == buffer_.end()) {
    // Keep a tail that may be the start of a magic split across reads.
    const std::size_t keep = std::min<std::size_t>(kMagicBytes.size() - 1, buffer_.size());
    it = buffer_.end() - static_cast<std::ptrdiff_t>(keep);
  }
  const auto dropped = static_cast<std::size_t>(it - buffer_.begin());
  buffer_.erase(buffer_.begin(), it);
  return dropped;
}

ReadOutcome FrameStream::read(std::optional<Clock::time_point> deadline) {
  ReadOutcome out;
  for (;;) {
    if (buffer_.size() >= kMagicBytes.size() &&
        !std::equal(kMagicBytes.begin(), kMagicBytes.end(), buffer_.begin())) {
      const std::size_t dropped = skip_to_magic(0);
      out.kind = ReadOutcome::Kind::Malformed;
      out.error = "skipped " + std::to_string(dropped) + " bytes that are not a frame (bad magic)";
      return out;
    }
    if (buffer_.size() >= kHeaderBytes) {
      auto header = decode_header(buffer_);
      if (!header) {
        out.kind = ReadOutcome::Kind::Malformed;
        out.error = header.error().message;
        // The id sits at a fixed offset, so the answer can still name the request.
        for (int i = 0; i < 8; ++i)
          out.frame.id |= static_cast<uint64_t>(buffer_[8 + static_cast<std::size_t>(i)]) << (8 * i);
        skip_to_magic(1);
        return out;
      }
      const std::size_t total = kHeaderBytes + header->length;
      if (buffer_.size() >= total) {
        out.kind = ReadOutcome::Kind::Frame;
        out.frame.type = header->type;
        out.frame.id = header->id;
        out.frame.payload.assign(buffer_.begin() + kHeaderBytes,
                                 buffer_.begin() + static_cast<std::ptrdiff_t>(total));
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(total));
        return out;
      }
    }
    switch (fill(deadline, out.error)) {
      case Fill::Data:
        break;
      case Fill::Closed:
        out.kind = ReadOutcome::Kind::Closed;
        if (!buffer_.empty())
          out.error = "stream ended inside a frame (" + std::to_string(buffer_.size()) + " bytes)";
        buffer_.clear();
        return out;
      case Fill::Timeout:
        out.kind = ReadOutcome::Kind::Timeout;
        return out;
      case Fill::Failed:
        out.kind = ReadOutcome::Kind::Failed;
        return out;
    }
  }
}

Result<void> FrameStream::write(MessageType type, uint64_t id, std::span<const uint8_t> payload,
                                std::optional<Clock::time_point> deadline) {
  const std::vector<uint8_t> bytes = encode_frame(type, id, payload);
  std::size_t done = 0;
  while (done < bytes.size()) {
    if (!wait_for(fd_, POLLOUT, deadline)) return make_error("write: timed out");
    // MSG_NOSIGNAL: a dead peer must be an error value, not SIGPIPE. It only
    // applies to sockets; a virtio port (ENOTSOCK) falls back to write().
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    return make_error(std::string("write: ") + (n == 0 ? "no progress" : std::strerror(errno)));
  }
  return {};
}

}  // namespace bpfdiff::oracle::kernel::guest
