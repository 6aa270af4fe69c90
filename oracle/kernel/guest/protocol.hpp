#pragma once
// The wire protocol between the host and the agent inside a QEMU guest,
// carried over a virtio-serial port (a unix socket on the host side).
//
// Every message is one frame: a fixed 20-byte little-endian header followed by
// `length` payload bytes.
//
//   u32 magic "BPFD" | u16 version | u16 type | u64 request id | u32 length
//
// The host speaks first (Hello) so that a guest restored from a snapshot, or
// one whose port was not yet connected when it booted, never loses a greeting.
// Each message the host sends is answered by exactly one message with the
// same request id: HelloReply, Response, or Error when the frame was
// malformed or the request could not be served. Replies come in the order
// of the messages, which the host may send ahead of the replies (version 5). Sizes are validated before
// anything is allocated, so a corrupt length can neither crash nor exhaust
// memory on either side.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oracle/kernel/kernel_request.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::oracle::kernel::guest {

inline constexpr uint32_t kMagic = 0x44465042;  // "BPFD" in little-endian byte order
// 2: the unmodified run (PlainRun), the instrumentation seed, Busy heartbeats.
// 3: KCOV coverage in the response (KernelCoverage; state NotRequested from an
//    agent asked without kWantCoverage, Unavailable on a kernel without KCOV).
// 4: the program's maps in the request (KernelMap), their contents after
//    each run and the array maps' value addresses in the response.
// 5: pipelining: the host may send further Requests before the first is
//    answered; the agent serves them strictly in order, so the oldest
//    unanswered request is always the one running (the one a hang or panic
//    belongs to). Each response carries the executor's time by phase
//    (ExecutorPhases) and the kernel's messages logged while it ran.
// 6: a hash map's starting entries in the request (KernelMap::initial_entries).
// 7: two more executor phases: kernel maps, and our own preparation; and
//    whether the kernel JIT-compiled the program (KernelResponse::jit).
inline constexpr uint16_t kProtocolVersion = 7;
inline constexpr std::size_t kHeaderBytes = 20;
// Bounds every payload: the largest program the kernel loads (1M slots, 8 MiB)
// plus memory and log. Anything larger is a corrupt frame, not a request.
inline constexpr uint32_t kMaxPayloadBytes = 96u << 20;
inline constexpr uint32_t kMaxProgramSlots = 1u << 20;
inline constexpr uint32_t kMaxMemoryBytes = 1u << 20;
inline constexpr uint32_t kMaxStringBytes = 64u << 20;  // the executor grows its verifier log up to 64 MiB
// New edges of one response: at most one per traced PC (the agent's trace
// holds 1M), with room to spare.
inline constexpr uint32_t kMaxCoverageEdges = 4u << 20;

enum class MessageType : uint16_t {
  Hello = 1,       // host -> guest, empty payload
  HelloReply = 2,  // guest -> host: HelloInfo
  Request = 3,     // host -> guest: KernelRequest
  Response = 4,    // guest -> host: KernelResponse
  Error = 5,       // guest -> host: a message (malformed frame, refused request)
  Fault = 6,       // test only. host -> guest: FaultKind (crash or hang the guest on purpose);
                   // guest -> host: empty acknowledgement, sent before the fault happens
  Busy = 7,        // guest -> host, empty, with the id of the request in progress: sent every
                   // AgentConfig::heartbeat while it runs, so a verifier working through its
                   // complexity limit (seconds, ten times more under TCG) is told from a dead kernel
};

// What a test may ask a guest to do to itself. The agent obeys only when the
// kernel command line carries kFaultsAllowedArg, which only tests pass.
enum class FaultKind : uint8_t {
  Panic = 1,  // sysrq 'c': a kernel panic, QEMU exits through pvpanic
  Hang = 2,   // the agent stops answering
};
inline constexpr const char* kFaultsAllowedArg = "bpfdiff.test_faults=1";

struct HelloInfo {
  uint16_t version = kProtocolVersion;
  std::string kernel_release;  // uname -r
  std::string agent_notes;     // e.g. modules that failed to load, for `guest status`

  bool operator==(const HelloInfo&) const = default;
};

struct FrameHeader {
  uint16_t version = kProtocolVersion;
  MessageType type = MessageType::Error;
  uint64_t id = 0;
  uint32_t length = 0;
};

struct Frame {
  MessageType type = MessageType::Error;
  uint64_t id = 0;
  std::vector<uint8_t> payload;
};

// Header parsing: checks magic, version, type and the payload bound.
Result<FrameHeader> decode_header(std::span<const uint8_t> bytes);
std::vector<uint8_t> encode_frame(MessageType type, uint64_t id, std::span<const uint8_t> payload);

// Payload codecs. Decoders reject truncated input, trailing bytes and
// out-of-range counts with a message naming the field.
std::vector<uint8_t> encode_hello_info(const HelloInfo& info);
Result<HelloInfo> decode_hello_info(std::span<const uint8_t> payload);
std::vector<uint8_t> encode_request(const KernelRequest& request);
Result<KernelRequest> decode_request(std::span<const uint8_t> payload);
std::vector<uint8_t> encode_response(const KernelResponse& response);
Result<KernelResponse> decode_response(std::span<const uint8_t> payload);
std::vector<uint8_t> encode_error(const std::string& message);
Result<std::string> decode_error(std::span<const uint8_t> payload);
std::vector<uint8_t> encode_fault(FaultKind kind);
Result<FaultKind> decode_fault(std::span<const uint8_t> payload);

const char* message_type_name(MessageType type);

}  // namespace bpfdiff::oracle::kernel::guest
