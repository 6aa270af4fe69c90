#pragma once
// Frames over a byte stream (a virtio-serial port in the guest, a unix socket
// on the host), with deadlines on the host side and resynchronisation after
// garbage: a frame whose header is bad is reported once and the stream skips
// to the next magic, so one corrupt message never wedges the channel.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oracle/kernel/guest/protocol.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

using Clock = std::chrono::steady_clock;

struct ReadOutcome {
  enum class Kind {
    Frame,      // `frame` holds a complete, well-formed frame (its payload is not decoded yet)
    Malformed,  // bad header; `error` says why, `frame.id` is the header's id when it had one
    Closed,     // the peer closed (or, on a virtio port, the host is not connected)
    Timeout,    // the deadline passed first
    Failed,     // a read error; `error` says which
  };
  Kind kind = Kind::Failed;
  Frame frame;
  std::string error;
};

class FrameStream {
 public:
  // Does not own `fd`.
  explicit FrameStream(int fd) : fd_(fd) {}

  // Blocks until a frame, garbage, end of stream, or `deadline` (none: forever).
  ReadOutcome read(std::optional<Clock::time_point> deadline = std::nullopt);

  // Writes the whole frame or fails (peer gone, deadline passed).
  Result<void> write(MessageType type, uint64_t id, std::span<const uint8_t> payload,
                     std::optional<Clock::time_point> deadline = std::nullopt);

  // Drops buffered input, e.g. after the peer was restarted.
  void reset() { buffer_.clear(); }

 private:
  enum class Fill { Data, Closed, Timeout, Failed };
  Fill fill(std::optional<Clock::time_point> deadline, std::string& error);
  // Drops bytes up to the next possible magic; returns how many.
  std::size_t skip_to_magic(std::size_t from);

  int fd_;
  std::vector<uint8_t> buffer_;
};

}  // namespace bpfdiff::oracle::kernel::guest
