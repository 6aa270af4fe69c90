#include "oracle/kernel/guest/protocol.hpp"

#include <cstdio>

namespace bpfdiff::oracle::kernel::guest {
namespace {

// Little-endian writer: the guest and host are both x86-64 today, but fixing
// the byte order keeps the format independent of that.
class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void bytes(std::span<const uint8_t> b) {
    u32(static_cast<uint32_t>(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
  }
  void str(const std::string& s) { bytes(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size())); }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  void put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

// Reader with a sticky error: the first short read names the field, later
// reads return zeros, and finish() reports it (or trailing garbage).
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}

  uint8_t u8(const char* field) { return static_cast<uint8_t>(get(1, field)); }
  uint16_t u16(const char* field) { return static_cast<uint16_t>(get(2, field)); }
  uint32_t u32(const char* field) { return static_cast<uint32_t>(get(4, field)); }
  uint64_t u64(const char* field) { return get(8, field); }

  // A length-prefixed byte string of at most `max` bytes.
  std::span<const uint8_t> bytes(const char* field, uint32_t max) {
    const uint32_t n = u32(field);
    if (!error_.empty()) return {};
    if (n > max) {
      fail(std::string(field) + " length " + std::to_string(n) + " exceeds the limit " + std::to_string(max));
      return {};
    }
    if (n > remaining()) {
      fail(std::string(field) + " truncated: " + std::to_string(n) + " bytes announced, " +
           std::to_string(remaining()) + " present");
      return {};
    }
    auto out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::string str(const char* field, uint32_t max) {
    auto b = bytes(field, max);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }

  std::size_t remaining() const { return in_.size() - pos_; }
  void fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }
  bool failed() const { return !error_.empty(); }

  Result<void> finish(const char* what) {
    if (error_.empty() && remaining() != 0)
      fail(std::to_string(remaining()) + " trailing bytes after the " + what);
    if (!error_.empty()) return make_error(std::string("malformed ") + what + ": " + error_);
    return {};
  }

 private:
  uint64_t get(int n, const char* field) {
    if (!error_.empty()) return 0;
    if (remaining() < static_cast<std::size_t>(n)) {
      fail(std::string(field) + " truncated");
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(in_[pos_ + static_cast<std::size_t>(i)]) << (8 * i);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }

  std::span<const uint8_t> in_;
  std::size_t pos_ = 0;
  std::string error_;
};

KernelVerdict verdict_field(Reader& r, const char* field) {
  const uint8_t verdict = r.u8(field);
  if (!r.failed() && verdict > static_cast<uint8_t>(KernelVerdict::Failed))
    r.fail(std::string("unknown ") + field + " " + std::to_string(verdict));
  return r.failed() ? KernelVerdict::Failed : static_cast<KernelVerdict>(verdict);
}

bool known_type(uint16_t t) {
  return t >= static_cast<uint16_t>(MessageType::Hello) && t <= static_cast<uint16_t>(MessageType::Busy);
}

}  // namespace

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::Hello:
      return "hello";
    case MessageType::HelloReply:
      return "hello-reply";
    case MessageType::Request:
      return "request";
    case MessageType::Response:
      return "response";
    case MessageType::Error:
      return "error";
    case MessageType::Fault:
      return "fault";
    case MessageType::Busy:
      return "busy";
  }
  return "unknown";
}

Result<FrameHeader> decode_header(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes)
    return make_error("frame header truncated: " + std::to_string(bytes.size()) + " of " +
                      std::to_string(kHeaderBytes) + " bytes");
  Reader r(bytes.first(kHeaderBytes));
  const uint32_t magic = r.u32("magic");
  FrameHeader h;
  h.version = r.u16("version");
  const uint16_t type = r.u16("type");
  h.id = r.u64("id");
  h.length = r.u32("length");
  if (magic != kMagic) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", magic);
    return make_error(std::string("bad frame magic 0x") + hex + " (not a bpfdiff agent frame)");
  }
  if (h.version != kProtocolVersion)
    return make_error(
        "unsupported protocol version " + std::to_string(h.version) + " (this side speaks " +
        std::to_string(kProtocolVersion) +
        "; the guest image's agent and this bpfdiff differ: rebuild the image with scripts/build-guest.sh)");
  if (!known_type(type)) return make_error("unknown message type " + std::to_string(type));
  h.type = static_cast<MessageType>(type);
  if (h.length > kMaxPayloadBytes)
    return make_error("frame payload length " + std::to_string(h.length) + " exceeds the limit " +
                      std::to_string(kMaxPayloadBytes));
  return h;
}

std::vector<uint8_t> encode_frame(MessageType type, uint64_t id, std::span<const uint8_t> payload) {
  Writer w;
  w.u32(kMagic);
  w.u16(kProtocolVersion);
  w.u16(static_cast<uint16_t>(type));
  w.u64(id);
  w.u32(static_cast<uint32_t>(payload.size()));
  std::vector<uint8_t> out = w.take();
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> encode_hello_info(const HelloInfo& info) {
  Writer w;
  w.u16(info.version);
  w.str(info.kernel_release);
  w.str(info.agent_notes);
  return w.take();
}

Result<HelloInfo> decode_hello_info(std::span<const uint8_t> payload) {
  Reader r(payload);
  HelloInfo info;
  info.version = r.u16("version");
  info.kernel_release = r.str("kernel release", 256);
  info.agent_notes = r.str("agent notes", 64 * 1024);
  if (auto ok = r.finish("hello reply"); !ok) return ok.error();
  return info;
}

namespace {

void write_map_contents(Writer& w, const std::vector<KernelMapContents>& maps) {
  w.u32(static_cast<uint32_t>(maps.size()));
  for (const KernelMapContents& m : maps) {
    w.u32(static_cast<uint32_t>(m.entries.size()));
    for (const KernelMapEntry& e : m.entries) {
      w.bytes(e.key);
      w.bytes(e.value);
    }
  }
}

std::vector<KernelMapContents> read_map_contents(Reader& r, const char* field) {
  std::vector<KernelMapContents> out;
  const uint32_t n = r.u32(field);
  if (r.failed()) return out;
  if (n > kMaxRequestMaps) {
    r.fail(std::string(field) + ": " + std::to_string(n) + " maps exceed the limit");
    return out;
  }
  out.resize(n);
  for (KernelMapContents& m : out) {
    const uint32_t entries = r.u32(field);
    // Each entry takes at least 8 bytes (two lengths): bounds the allocation.
    if (r.failed() || entries > kMaxRequestMapEntries || std::size_t{entries} * 8 > r.remaining()) {
      r.fail(std::string(field) + ": entry count " + std::to_string(entries) + " is out of range");
      return out;
    }
    m.entries.resize(entries);
    for (KernelMapEntry& e : m.entries) {
      const auto key = r.bytes(field, kMaxRequestMapKeySize);
      const auto value = r.bytes(field, kMaxRequestMapValueSize);
      e.key.assign(key.begin(), key.end());
      e.value.assign(value.begin(), value.end());
    }
  }
  return out;
}

}  // namespace

std::vector<uint8_t> encode_request(const KernelRequest& request) {
  Writer w;
  w.u32(request.flags);
  w.bytes(isa::encode_slots(request.program));
  w.bytes(request.memory);
  w.u32(request.instrumentation_seed);
  w.u32(static_cast<uint32_t>(request.maps.size()));
  for (const KernelMap& m : request.maps) {
    w.u32(m.type);
    w.u32(m.key_size);
    w.u32(m.value_size);
    w.u32(m.max_entries);
    w.u8(m.read_only ? 1 : 0);
    w.bytes(m.initial_values);
    w.u32(static_cast<uint32_t>(m.initial_entries.size()));
    for (const KernelMapEntry& e : m.initial_entries) {
      w.bytes(e.key);
      w.bytes(e.value);
    }
  }
  return w.take();
}

Result<KernelRequest> decode_request(std::span<const uint8_t> payload) {
  Reader r(payload);
  KernelRequest req;
  req.flags = r.u32("flags");
  const auto code = r.bytes("program", kMaxProgramSlots * static_cast<uint32_t>(isa::kSlotBytes));
  if (!r.failed() && code.size() % isa::kSlotBytes != 0)
    r.fail("program length " + std::to_string(code.size()) + " is not a multiple of 8");
  const auto memory = r.bytes("memory", kMaxMemoryBytes);
  req.instrumentation_seed = r.u32("instrumentation seed");
  const uint32_t maps = r.u32("map count");
  if (!r.failed() && maps > kMaxRequestMaps)
    r.fail("map count " + std::to_string(maps) + " exceeds the limit");
  for (uint32_t i = 0; i < maps && !r.failed(); ++i) {
    KernelMap m;
    m.type = r.u32("map type");
    m.key_size = r.u32("map key size");
    m.value_size = r.u32("map value size");
    m.max_entries = r.u32("map entries");
    const uint8_t read_only = r.u8("map read-only");
    if (!r.failed() && read_only > 1) r.fail("map read-only is " + std::to_string(read_only));
    m.read_only = read_only == 1;
    const auto initial = r.bytes("map initial values", static_cast<uint32_t>(kMaxRequestMapBytes));
    m.initial_values.assign(initial.begin(), initial.end());
    const uint32_t entries = r.u32("map starting entries");
    // Each entry takes at least 8 bytes (two lengths): bounds the allocation.
    if (!r.failed() && (entries > kMaxRequestMapEntries || std::size_t{entries} * 8 > r.remaining()))
      r.fail("map starting entry count " + std::to_string(entries) + " is out of range");
    for (uint32_t e = 0; e < entries && !r.failed(); ++e) {
      const auto key = r.bytes("map starting key", kMaxRequestMapKeySize);
      const auto value = r.bytes("map starting value", kMaxRequestMapValueSize);
      m.initial_entries.push_back({{key.begin(), key.end()}, {value.begin(), value.end()}});
    }
    req.maps.push_back(std::move(m));
  }
  if (auto ok = r.finish("request"); !ok) return ok.error();
  req.program = isa::decode_slots(code);
  req.memory.assign(memory.begin(), memory.end());
  return req;
}

std::vector<uint8_t> encode_response(const KernelResponse& response) {
  Writer w;
  w.u8(response.plain.loaded ? 1 : 0);
  w.u8(static_cast<uint8_t>(response.plain.verdict));
  w.u32(static_cast<uint32_t>(response.plain.errno_value));
  w.str(response.plain.log);
  w.u32(response.plain.retval);
  w.bytes(response.plain.memory);
  w.str(response.instrumentation);
  w.u32(response.body_offset);
  w.u8(static_cast<uint8_t>(response.verdict));
  w.u32(static_cast<uint32_t>(response.errno_value));
  w.str(response.log);
  for (uint64_t reg : response.regs)
    w.u64(reg);
  w.u16(response.regs_valid);
  w.bytes(response.memory);
  w.u64(response.memory_base);
  w.u64(response.frame_base);
  w.u32(response.retval);
  w.u64(response.duration_ns);
  for (uint64_t ns : {response.phases.plain_load_ns, response.phases.plain_run_ns,
                      response.phases.full_load_ns, response.phases.full_run_ns, response.phases.log_ns,
                      response.phases.close_ns, response.phases.maps_ns, response.phases.prepare_ns})
    w.u64(ns);
  w.str(response.kernel_release);
  write_map_contents(w, response.plain.maps);
  write_map_contents(w, response.maps);
  w.u32(static_cast<uint32_t>(response.map_value_bases.size()));
  for (uint64_t base : response.map_value_bases)
    w.u64(base);
  w.u8(static_cast<uint8_t>(response.jit));
  w.u8(response.kernel_messages_read ? 1 : 0);
  w.str(response.kernel_messages);
  // Coverage last: its edges are the one unbounded part.
  w.u8(static_cast<uint8_t>(response.coverage.state));
  w.str(response.coverage.note);
  w.u64(response.coverage.trace_pcs);
  w.u8(response.coverage.truncated ? 1 : 0);
  w.u32(static_cast<uint32_t>(response.coverage.new_edges.size()));
  for (uint32_t edge : response.coverage.new_edges)
    w.u32(edge);
  return w.take();
}

Result<KernelResponse> decode_response(std::span<const uint8_t> payload) {
  Reader r(payload);
  KernelResponse resp;
  const uint8_t plain_loaded = r.u8("plain loaded");
  if (!r.failed() && plain_loaded > 1) r.fail("plain loaded is " + std::to_string(plain_loaded));
  resp.plain.loaded = plain_loaded == 1;
  resp.plain.verdict = verdict_field(r, "plain verdict");
  resp.plain.errno_value = static_cast<int32_t>(r.u32("plain errno"));
  resp.plain.log = r.str("plain log", kMaxStringBytes);
  resp.plain.retval = r.u32("plain retval");
  const auto plain_memory = r.bytes("plain memory", kMaxMemoryBytes);
  resp.plain.memory.assign(plain_memory.begin(), plain_memory.end());
  resp.instrumentation = r.str("instrumentation", 256);
  resp.body_offset = r.u32("body offset");
  resp.verdict = verdict_field(r, "verdict");
  resp.errno_value = static_cast<int32_t>(r.u32("errno"));
  resp.log = r.str("log", kMaxStringBytes);
  for (uint64_t& reg : resp.regs)
    reg = r.u64("registers");
  resp.regs_valid = r.u16("registers valid");
  const auto memory = r.bytes("memory", kMaxMemoryBytes);
  resp.memory.assign(memory.begin(), memory.end());
  resp.memory_base = r.u64("memory base");
  resp.frame_base = r.u64("frame base");
  resp.retval = r.u32("retval");
  resp.duration_ns = r.u64("duration");
  for (uint64_t* ns : {&resp.phases.plain_load_ns, &resp.phases.plain_run_ns, &resp.phases.full_load_ns,
                       &resp.phases.full_run_ns, &resp.phases.log_ns, &resp.phases.close_ns,
                       &resp.phases.maps_ns, &resp.phases.prepare_ns})
    *ns = r.u64("executor phases");
  resp.kernel_release = r.str("kernel release", 256);
  resp.plain.maps = read_map_contents(r, "plain maps");
  resp.maps = read_map_contents(r, "maps");
  const uint32_t bases = r.u32("map value base count");
  if (!r.failed() && bases > kMaxRequestMaps) r.fail("map value base count " + std::to_string(bases));
  for (uint32_t i = 0; i < bases && !r.failed(); ++i)
    resp.map_value_bases.push_back(r.u64("map value bases"));
  const uint8_t jit = r.u8("jit state");
  if (!r.failed() && jit > static_cast<uint8_t>(JitState::Interpreted))
    r.fail("unknown jit state " + std::to_string(jit));
  resp.jit = r.failed() ? JitState::Unknown : static_cast<JitState>(jit);
  const uint8_t messages_read = r.u8("kernel messages read");
  if (!r.failed() && messages_read > 1) r.fail("kernel messages read is " + std::to_string(messages_read));
  resp.kernel_messages_read = messages_read == 1;
  resp.kernel_messages = r.str("kernel messages", kMaxStringBytes);
  const uint8_t coverage_state = r.u8("coverage state");
  if (!r.failed() && coverage_state > static_cast<uint8_t>(CoverageState::Collected))
    r.fail("unknown coverage state " + std::to_string(coverage_state));
  resp.coverage.state = r.failed() ? CoverageState::NotRequested : static_cast<CoverageState>(coverage_state);
  resp.coverage.note = r.str("coverage note", 64 * 1024);
  resp.coverage.trace_pcs = r.u64("coverage trace length");
  const uint8_t truncated = r.u8("coverage truncated");
  if (!r.failed() && truncated > 1) r.fail("coverage truncated is " + std::to_string(truncated));
  resp.coverage.truncated = truncated == 1;
  const uint32_t edges = r.u32("coverage edge count");
  if (!r.failed() && edges > kMaxCoverageEdges)
    r.fail("coverage edge count " + std::to_string(edges) + " exceeds the limit " +
           std::to_string(kMaxCoverageEdges));
  else if (!r.failed() && std::size_t{edges} * 4 > r.remaining())
    r.fail("coverage edges truncated: " + std::to_string(edges) + " announced, room for " +
           std::to_string(r.remaining() / 4));
  if (!r.failed()) {
    resp.coverage.new_edges.resize(edges);
    for (uint32_t& edge : resp.coverage.new_edges)
      edge = r.u32("coverage edges");
  }
  if (auto ok = r.finish("response"); !ok) return ok.error();
  return resp;
}

std::vector<uint8_t> encode_error(const std::string& message) {
  Writer w;
  w.str(message);
  return w.take();
}

Result<std::string> decode_error(std::span<const uint8_t> payload) {
  Reader r(payload);
  std::string message = r.str("message", kMaxStringBytes);
  if (auto ok = r.finish("error"); !ok) return ok.error();
  return message;
}

std::vector<uint8_t> encode_fault(FaultKind kind) {
  return {static_cast<uint8_t>(kind)};
}

Result<FaultKind> decode_fault(std::span<const uint8_t> payload) {
  Reader r(payload);
  const uint8_t kind = r.u8("fault kind");
  if (!r.failed() && kind != static_cast<uint8_t>(FaultKind::Panic) &&
      kind != static_cast<uint8_t>(FaultKind::Hang))
    r.fail("unknown fault kind " + std::to_string(kind));
  if (auto ok = r.finish("fault"); !ok) return ok.error();
  return static_cast<FaultKind>(kind);
}

}  // namespace bpfdiff::oracle::kernel::guest
