// The guest wire protocol: every message round-trips, and every kind of
// damage (truncation, bad magic/version/type, oversize lengths, trailing
// bytes, bad counts) is an error naming what is wrong, never a crash.
#include "oracle/kernel/guest/protocol.hpp"

#include <gtest/gtest.h>

namespace bpfdiff::oracle::kernel::guest {
namespace {

KernelRequest sample_request() {
  KernelRequest r;
  r.flags = kWantLogOnReject | kJitDisable;
  r.program = {{0xb7, 0, 0, 0, 42}, {0x18, 1, 2, -3, -1}, {0, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}};
  r.memory = {1, 2, 3, 0xff};
  r.instrumentation_seed = 0xfeedf00d;
  KernelMap array;
  array.value_size = 2;
  array.max_entries = 2;
  array.read_only = true;
  array.initial_values = {1, 2, 3, 4};
  KernelMap hash;
  hash.type = kMapTypeHash;
  hash.key_size = 8;
  hash.value_size = 16;
  hash.max_entries = 5;
  hash.initial_entries = {{{1, 2, 3, 4, 5, 6, 7, 8}, std::vector<uint8_t>(16, 0xaa)},
                          {std::vector<uint8_t>(8, 0), std::vector<uint8_t>(16, 0)}};
  r.maps = {array, hash};
  return r;
}

KernelResponse sample_response() {
  KernelResponse r;
  r.verdict = KernelVerdict::Rejected;
  r.errno_value = -13;
  r.log = "R1 invalid mem access 'scalar'\n";
  for (std::size_t i = 0; i < r.regs.size(); ++i)
    r.regs[i] = 0x8000000000000000ull >> i;
  r.regs_valid = 0x3c1;  // r1..r5 not exported (a call clobbered them)
  r.memory = {9, 8, 7};
  r.memory_base = 0xffff888000001000ull;
  r.frame_base = 0xffffc90000123e00ull;
  r.retval = 0xdeadbeef;
  r.duration_ns = 123456789;
  r.phases = {11, 22, 33, 44, 55, 66, 77, 88};
  r.kernel_release = "6.1.0-50-cloud-amd64";
  r.kernel_messages_read = true;
  r.kernel_messages = "[    3.141593] WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:1 f+0x1/0x2\n";
  r.plain.loaded = true;
  r.plain.verdict = KernelVerdict::Failed;
  r.plain.errno_value = 22;
  r.plain.log = "bpf(BPF_PROG_TEST_RUN): EINVAL";
  r.plain.retval = 0x12345678;
  r.plain.memory = {4, 5};
  r.instrumentation = "epilogue-after/minimal-prologue";
  r.body_offset = 3;
  r.coverage.state = CoverageState::Collected;
  r.coverage.trace_pcs = 123456;
  r.coverage.truncated = true;
  r.coverage.new_edges = {1, 0xdeadbeef, 0x80000000, 42};
  r.plain.maps = {{{{{0, 0, 0, 0}, {1, 2}}, {{1, 0, 0, 0}, {3, 4}}}}, {}};
  r.maps = {{{{{0, 0, 0, 0}, {5, 6}}}}, {{{{9, 9, 9, 9, 9, 9, 9, 9}, {7}}}}};
  r.map_value_bases = {0xffffc90000a01000ull, 0};
  r.jit = JitState::Interpreted;
  return r;
}

void expect_same(const KernelResponse& a, const KernelResponse& b) {
  EXPECT_EQ(a.verdict, b.verdict);
  EXPECT_EQ(a.errno_value, b.errno_value);
  EXPECT_EQ(a.log, b.log);
  EXPECT_EQ(a.regs, b.regs);
  EXPECT_EQ(a.regs_valid, b.regs_valid);
  EXPECT_EQ(a.memory, b.memory);
  EXPECT_EQ(a.memory_base, b.memory_base);
  EXPECT_EQ(a.frame_base, b.frame_base);
  EXPECT_EQ(a.retval, b.retval);
  EXPECT_EQ(a.duration_ns, b.duration_ns);
  EXPECT_EQ(a.phases, b.phases);
  EXPECT_EQ(a.kernel_messages_read, b.kernel_messages_read);
  EXPECT_EQ(a.kernel_messages, b.kernel_messages);
  EXPECT_EQ(a.kernel_release, b.kernel_release);
  EXPECT_EQ(a.plain, b.plain);
  EXPECT_EQ(a.instrumentation, b.instrumentation);
  EXPECT_EQ(a.body_offset, b.body_offset);
  EXPECT_EQ(a.coverage, b.coverage);
  EXPECT_EQ(a.maps, b.maps);
  EXPECT_EQ(a.map_value_bases, b.map_value_bases);
  EXPECT_EQ(a.jit, b.jit);
}

TEST(GuestProtocol, HeaderRoundTripsTypeIdAndLength) {
  const std::vector<uint8_t> payload = {1, 2, 3};
  const auto frame = encode_frame(MessageType::Request, 0x1122334455667788ull, payload);
  ASSERT_EQ(frame.size(), kHeaderBytes + 3);
  auto h = decode_header(frame);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->type, MessageType::Request);
  EXPECT_EQ(h->id, 0x1122334455667788ull);
  EXPECT_EQ(h->length, 3u);
  // Fixed little-endian layout: the magic spells "BPFD".
  EXPECT_EQ(std::string(frame.begin(), frame.begin() + 4), "BPFD");
}

TEST(GuestProtocol, RequestRoundTrips) {
  const KernelRequest r = sample_request();
  auto back = decode_request(encode_request(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->flags, r.flags);
  EXPECT_EQ(back->program, r.program);
  EXPECT_EQ(back->memory, r.memory);
  EXPECT_EQ(back->instrumentation_seed, r.instrumentation_seed);
  EXPECT_EQ(back->maps, r.maps);
}

TEST(GuestProtocol, ResponseRoundTrips) {
  auto back = decode_response(encode_response(sample_response()));
  ASSERT_TRUE(back) << back.error().message;
  expect_same(*back, sample_response());
}

TEST(GuestProtocol, CoverageOfEveryStateRoundTrips) {
  KernelResponse r = sample_response();
  r.coverage = {};  // an agent asked without kWantCoverage
  auto none = decode_response(encode_response(r));
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->coverage.state, CoverageState::NotRequested);
  EXPECT_TRUE(none->coverage.new_edges.empty());
  r.coverage.state = CoverageState::Unavailable;
  r.coverage.note = "/sys/kernel/debug/kcov: No such file or directory";
  auto unavailable = decode_response(encode_response(r));
  ASSERT_TRUE(unavailable) << unavailable.error().message;
  EXPECT_EQ(unavailable->coverage, r.coverage);
}

TEST(GuestProtocol, CoverageCountsAndStatesOutOfRangeAreRejected) {
  // The coverage block is the payload's tail: state u8, note, trace u64,
  // truncated u8, count u32, edges. Patch it in place.
  KernelResponse r = sample_response();
  r.coverage.new_edges = {7};
  std::vector<uint8_t> bytes = encode_response(r);
  const std::size_t count_at = bytes.size() - 4 - 4;
  const std::size_t truncated_at = count_at - 1;
  const std::size_t state_at = truncated_at - 8 - 4 - r.coverage.note.size() - 1;
  auto patched = [&](std::size_t at, uint8_t value) {
    std::vector<uint8_t> b = bytes;
    b[at] = value;
    return decode_response(b);
  };
  ASSERT_TRUE(decode_response(bytes)) << decode_response(bytes).error().message;
  auto state = patched(state_at, 3);
  ASSERT_FALSE(state);
  EXPECT_NE(state.error().message.find("unknown coverage state 3"), std::string::npos)
      << state.error().message;
  auto truncated = patched(truncated_at, 2);
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message.find("coverage truncated is 2"), std::string::npos);
  // A count beyond the bytes present, and one beyond the limit, fail before any allocation.
  auto more = patched(count_at, 2);
  ASSERT_FALSE(more);
  EXPECT_NE(more.error().message.find("coverage edges truncated"), std::string::npos) << more.error().message;
  auto huge = patched(count_at + 3, 0xff);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("exceeds the limit"), std::string::npos) << huge.error().message;
}

TEST(GuestProtocol, KernelMessagesFlagOutOfRangeIsRejected) {
  // The flag is the byte before the messages' length (u32) and text, which
  // come just before the coverage block.
  KernelResponse r = sample_response();
  std::vector<uint8_t> bytes = encode_response(r);
  const std::size_t coverage_bytes =
      1 + 4 + r.coverage.note.size() + 8 + 1 + 4 + 4 * r.coverage.new_edges.size();
  const std::size_t flag_at = bytes.size() - coverage_bytes - r.kernel_messages.size() - 4 - 1;
  ASSERT_EQ(bytes[flag_at], 1);
  bytes[flag_at] = 2;
  auto bad = decode_response(bytes);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("kernel messages read is 2"), std::string::npos) << bad.error().message;
  // The JIT state is the byte before it.
  bytes[flag_at] = 1;
  ASSERT_EQ(bytes[flag_at - 1], static_cast<uint8_t>(JitState::Interpreted));
  bytes[flag_at - 1] = 3;
  auto jit = decode_response(bytes);
  ASSERT_FALSE(jit);
  EXPECT_NE(jit.error().message.find("unknown jit state 3"), std::string::npos) << jit.error().message;
}

TEST(GuestProtocol, HelloErrorAndFaultRoundTrip) {
  HelloInfo info{kProtocolVersion, "6.12.90+deb12.1-cloud-amd64", "pvpanic: built in"};
  auto hello = decode_hello_info(encode_hello_info(info));
  ASSERT_TRUE(hello);
  EXPECT_EQ(*hello, info);
  auto error = decode_error(encode_error("boom"));
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "boom");
  auto fault = decode_fault(encode_fault(FaultKind::Hang));
  ASSERT_TRUE(fault);
  EXPECT_EQ(*fault, FaultKind::Hang);
}

TEST(GuestProtocol, EveryTruncationOfEveryPayloadIsAnError) {
  const std::vector<std::vector<uint8_t>> payloads = {
      encode_request(sample_request()), encode_response(sample_response()),
      encode_hello_info({kProtocolVersion, "6.1", "x"}), encode_error("message"),
      encode_fault(FaultKind::Panic)};
  for (std::size_t p = 0; p < payloads.size(); ++p) {
    for (std::size_t n = 0; n < payloads[p].size(); ++n) {
      std::span<const uint8_t> cut(payloads[p].data(), n);
      const bool failed = p == 0   ? !decode_request(cut).ok()
                          : p == 1 ? !decode_response(cut).ok()
                          : p == 2 ? !decode_hello_info(cut).ok()
                          : p == 3 ? !decode_error(cut).ok()
                                   : !decode_fault(cut).ok();
      EXPECT_TRUE(failed) << "payload " << p << " cut to " << n << " bytes decoded";
    }
  }
}

TEST(GuestProtocol, TrailingBytesAreRejected) {
  auto bytes = encode_request(sample_request());
  bytes.push_back(0);
  auto r = decode_request(bytes);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("trailing"), std::string::npos) << r.error().message;
}

TEST(GuestProtocol, ProgramLengthMustBeWholeSlots) {
  auto bytes = encode_request(sample_request());
  // flags (4) then the program's u32 length: 32 -> 31.
  bytes[4] = 31;
  auto r = decode_request(bytes);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("multiple of 8"), std::string::npos) << r.error().message;
}

TEST(GuestProtocol, HugeAnnouncedLengthsAreRejectedBeforeAllocation) {
  auto bytes = encode_request(sample_request());
  bytes[4] = bytes[5] = bytes[6] = bytes[7] = 0xff;  // program length 4 GiB
  auto r = decode_request(bytes);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exceeds the limit"), std::string::npos) << r.error().message;
}

TEST(GuestProtocol, AHugeStartingEntryCountIsRejectedBeforeAllocation) {
  KernelRequest r;
  KernelMap hash;
  hash.type = kMapTypeHash;
  hash.value_size = 8;
  hash.max_entries = 1;
  r.maps = {hash};
  auto bytes = encode_request(r);
  ASSERT_TRUE(decode_request(bytes).ok());
  // The request ends with the hash map's starting entry count (none).
  for (std::size_t i = bytes.size() - 4; i < bytes.size(); ++i)
    bytes[i] = 0xff;
  auto decoded = decode_request(bytes);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message.find("starting entry count 4294967295 is out of range"),
            std::string::npos)
      << decoded.error().message;
}

TEST(GuestProtocol, UnknownVerdictAndFaultKindAreRejected) {
  auto bytes = encode_response(sample_response());
  bytes[0] = 77;
  EXPECT_FALSE(decode_response(bytes));
  const std::vector<uint8_t> fault = {9};
  EXPECT_FALSE(decode_fault(fault));
}

TEST(GuestProtocol, BadHeadersNameTheProblem) {
  const auto good = encode_frame(MessageType::Hello, 1, {});
  auto bad_magic = good;
  bad_magic[0] = 'X';
  auto bad_version = good;
  bad_version[4] = 99;
  auto bad_type = good;
  bad_type[6] = 42;
  auto bad_length = good;
  bad_length[19] = 0x7f;
  const std::vector<std::pair<std::vector<uint8_t>, std::string>> cases = {
      {bad_magic, "magic"}, {bad_version, "version"}, {bad_type, "type"}, {bad_length, "exceeds"}};
  for (const auto& [bytes, word] : cases) {
    auto h = decode_header(bytes);
    ASSERT_FALSE(h) << word;
    EXPECT_NE(h.error().message.find(word), std::string::npos) << h.error().message;
  }
  EXPECT_FALSE(decode_header(std::span(good).first(kHeaderBytes - 1)));
}

}  // namespace
}  // namespace bpfdiff::oracle::kernel::guest
