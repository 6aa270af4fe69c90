// Run modes: what r1 and r2 hold and which memory the program can reach in
// each, on the engine under test.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/vm/program_builder.hpp"

namespace bpfdiff::test {
namespace {

using vm::kPacketBase;

vm::RunResult run_input(const ProgramBuilder& b, const vm::RunInput& input, vm::ExecLimits limits = {}) {
  auto loaded = vm::validate(b.program(), no_helpers());
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  if (!loaded.ok()) return {};
  EngineUnderTest engine(*loaded, no_helpers(), limits);
  return engine.run(input);
}

vm::RunInput packet_input(std::vector<uint8_t>& packet) {
  vm::RunInput in;
  in.mode = vm::RunMode::Packet;
  in.memory = packet;
  return in;
}

TEST(RunModeNoData, R1AndR2AreZero) {
  ProgramBuilder b;
  b.movr(0, 1).op(Form::or_reg, 0, 2).exit();
  std::vector<uint8_t> ignored(8, 1);
  vm::RunInput in{vm::RunMode::NoData, ignored};
  const vm::RunResult r = run_input(b, in);
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 0u);
}

// r0 = ctx->data_end - ctx->data, read with 32-bit loads as clang emits them.
TEST(RunModePacket, XdpContextBoundsThePacketWithU32Fields) {
  ProgramBuilder b;
  b.op(Form::ldxw, 2, 1, 0)
      .op(Form::ldxw, 3, 1, 4)
      .op(Form::ldxw, 4, 1, 8)
      .movr(0, 3)
      .op(Form::sub_reg, 0, 2);
  b.op(Form::lsh_imm, 4, 0, 0, 32).op(Form::or_reg, 0, 4).exit();  // data_meta in the high half
  std::vector<uint8_t> packet(60, 0xab);
  const vm::RunResult r = run_input(b, packet_input(packet));
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), (kPacketBase << 32) | 60u);
  EXPECT_EQ(r.regs[2], kPacketBase);
  EXPECT_EQ(r.regs[3], kPacketBase + 60);
  EXPECT_EQ(r.regs[1], kInputBase);
}

// The shape of every XDP parser: if (data + 14 > data_end) drop; else read
// the EtherType and write a byte of the packet.
ProgramBuilder ether_type_program() {
  ProgramBuilder b;
  b.op(Form::ldxw, 2, 1, 0).op(Form::ldxw, 3, 1, 4).movr(4, 2).op(Form::add_imm, 4, 0, 0, 14);
  b.mov(0, 1);                        // 4: XDP_DROP
  b.jump(Form::jgt_reg, 4, 3, 0, 9);  // 5: data + 14 > data_end -> exit
  b.op(Form::ldxh, 0, 2, 12);         // 6: EtherType, network order
  b.op(Form::stb, 2, 0, 0, 0x77);     // 7: the packet is writable
  b.op(Form::be16, 0, 0, 0, 16);      // 8
  b.exit();                           // 9
  return b;
}

TEST(RunModePacket, DirectPacketAccessInBounds) {
  std::vector<uint8_t> packet(64, 0);
  packet[12] = 0x08;
  const vm::RunResult r = run_input(ether_type_program(), packet_input(packet));
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 0x0800u);
  EXPECT_EQ(packet[0], 0x77);
}

TEST(RunModePacket, ShortPacketTakesTheBoundsCheckBranch) {
  std::vector<uint8_t> packet(13, 0);
  const vm::RunResult r = run_input(ether_type_program(), packet_input(packet));
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 1u);
  EXPECT_EQ(packet[0], 0);
}

TEST(RunModePacket, ReadingPastDataEndFaults) {
  ProgramBuilder b;
  b.op(Form::ldxw, 2, 1, 0).op(Form::ldxb, 0, 2, 20).exit();
  std::vector<uint8_t> packet(20, 0);
  const vm::RunResult r = run_input(b, packet_input(packet));
  EXPECT_EQ(r.error, (vm::ExecError{vm::ErrorKind::MemoryRead, 1, kPacketBase + 20, 1}));
}

TEST(RunModePacket, ReadingBeforeDataFaultsAndNullStillFaults) {
  ProgramBuilder b;
  b.op(Form::ldxw, 2, 1, 0).op(Form::ldxb, 0, 2, -1).exit();
  std::vector<uint8_t> packet(20, 0);
  EXPECT_EQ(run_input(b, packet_input(packet)).error,
            (vm::ExecError{vm::ErrorKind::MemoryRead, 1, kPacketBase - 1, 1}));
  ProgramBuilder null;
  null.mov(2, 0).op(Form::ldxb, 0, 2, 0).exit();
  EXPECT_EQ(run_input(null, packet_input(packet)).error, (vm::ExecError{vm::ErrorKind::MemoryRead, 1, 0, 1}));
}

TEST(RunModePacket, TheContextIsReadOnly) {
  ProgramBuilder b;
  b.op(Form::stw, 1, 0, 4, 0).mov(0, 0).exit();
  std::vector<uint8_t> packet(20, 0);
  EXPECT_EQ(run_input(b, packet_input(packet)).error,
            (vm::ExecError{vm::ErrorKind::MemoryWrite, 0, kInputBase + 4, 4}));
}

TEST(RunModePacket, EmptyPacketHasNoBytes) {
  ProgramBuilder b;
  b.op(Form::ldxw, 2, 1, 0).op(Form::ldxw, 3, 1, 4).op(Form::ldxb, 0, 2, 0).exit();
  std::vector<uint8_t> packet;
  const vm::RunResult r = run_input(b, packet_input(packet));
  EXPECT_EQ(r.error, (vm::ExecError{vm::ErrorKind::MemoryRead, 2, kPacketBase, 1}));
  EXPECT_EQ(r.regs[2], r.regs[3]);
}

TEST(RunModePacket, LegacyPacketLoadsReadThePacket) {
  ProgramBuilder b;
  b.movr(6, 1).op(Form::ldabsh, 0, 0, 0, 12).exit();
  std::vector<uint8_t> packet(14, 0);
  packet[12] = 0x86;
  packet[13] = 0xdd;
  const vm::RunResult r = run_input(b, packet_input(packet));
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 0x86ddu);
}

vm::RunInput meta_input(std::vector<uint8_t>& packet, std::vector<uint8_t>& meta, uint32_t data_off,
                        uint32_t end_off) {
  vm::RunInput in;
  in.mode = vm::RunMode::MetaBuffer;
  in.memory = packet;
  in.metadata = meta;
  in.data_offset = data_off;
  in.data_end_offset = end_off;
  return in;
}

TEST(RunModeMetaBuffer, TheVmWritesPacketBoundsIntoTheCallersBuffer) {
  // r0 = (data_end - data) + r2 * 1000 + first packet byte
  ProgramBuilder b;
  b.op(Form::ldxdw, 3, 1, 8).op(Form::ldxdw, 4, 1, 24).movr(0, 4).op(Form::sub_reg, 0, 3);
  b.op(Form::mul_imm, 2, 0, 0, 1000).op(Form::add_reg, 0, 2).op(Form::ldxb, 5, 3, 0).op(Form::add_reg, 0, 5);
  b.op(Form::stb, 1, 0, 0, 0x5a).exit();  // the buffer is writable
  std::vector<uint8_t> packet = {7, 1, 2};
  std::vector<uint8_t> meta(32, 0xff);
  const vm::RunResult r = run_input(b, meta_input(packet, meta, 8, 24));
  ASSERT_TRUE(r.ok()) << vm::describe(r.error);
  EXPECT_EQ(r.r0(), 3u + 3000u + 7u);
  uint64_t data = 0, data_end = 0;
  std::memcpy(&data, meta.data() + 8, 8);
  std::memcpy(&data_end, meta.data() + 24, 8);
  EXPECT_EQ(data, kPacketBase);
  EXPECT_EQ(data_end, kPacketBase + 3);
  EXPECT_EQ(meta[0], 0x5a);
  EXPECT_EQ(meta[16], 0xff);  // bytes the VM was not asked to write stay
}

TEST(RunModeMetaBuffer, OffsetsWithoutRoomAreReportedAndNotWritten) {
  std::vector<uint8_t> packet = {1};
  std::vector<uint8_t> meta(12, 0xee);
  EXPECT_EQ(vm::check_run_input(meta_input(packet, meta, 0, 8)),
            "metadata buffer of 12 bytes has no room for the 8-byte data_end address at offset 8");
  EXPECT_EQ(vm::check_run_input(meta_input(packet, meta, 4, 0)), "");
  ProgramBuilder b;
  b.mov(0, 0).exit();
  ASSERT_TRUE(run_input(b, meta_input(packet, meta, 0, 8)).ok());
  uint64_t data = 0;
  std::memcpy(&data, meta.data(), 8);
  EXPECT_EQ(data, kPacketBase);
  EXPECT_EQ(meta[8], 0xee);
  EXPECT_EQ(meta[11], 0xee);
}

}  // namespace
}  // namespace bpfdiff::test
