#include "oracle/smt/mem_counterexample.hpp"

#include <cstddef>
#include <utility>

#include "oracle/smt/interpreted_data_test.hpp"
#include "oracle/smt/mem_model.hpp"
#include "oracle/smt/witness_fold.hpp"
#include "vm/isa/encode.hpp"
#include "vm/jit/context.hpp"
#include "vm/jit/offsets.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::oracle::smt {
namespace {

// A fresh interpreter's stack with the default limits (what `bpfdiff run`
// gives a .data test without "# max-call-depth").
constexpr uint64_t kStackBytes = uint64_t{vm::ExecLimits{}.max_call_depth} * vm::kStackFrameBytes;

constexpr auto kStack = static_cast<uint32_t>(vm::RegionId::Stack);
constexpr auto kInput = static_cast<uint32_t>(vm::RegionId::Input);
constexpr auto kNull = static_cast<uint32_t>(vm::RegionId::Null);

void fold_doubleword(std::vector<isa::RawInsn>& slots, uint8_t base, int16_t offset) {
  slots.push_back(isa::encode(isa::Form::ldxdw, 8, base, offset));
  fold_into_r0(slots, 8);
}

// Host objects (base, size) that do not wrap around and do not overlap.
template <std::size_t N>
void keep_apart(z3::expr_vector& c, const std::array<std::pair<z3::expr, uint64_t>, N>& objects) {
  z3::context& ctx = c.ctx();
  const auto bv = [&](uint64_t v) { return ctx.bv_val(v, 64); };
  for (const auto& [base, size] : objects)
    c.push_back(z3::ule(base, bv(~uint64_t{0} - size)));
  for (std::size_t i = 0; i < objects.size(); ++i) {
    for (std::size_t j = i + 1; j < objects.size(); ++j) {
      const auto& [a, la] = objects[i];
      const auto& [b, lb] = objects[j];
      c.push_back(z3::ule(a + bv(la), b) || z3::ule(b + bv(lb), a));
    }
  }
}

}  // namespace

DataTestRun data_test_run(z3::context& ctx, const z3::expr& m0, const z3::expr& cp,
                          const std::array<z3::expr, isa::kNumRegisters>& regs, const z3::expr& address) {
  namespace off = jit::offsets;
  const auto bv = [&](uint64_t v, unsigned bits = 64) { return ctx.bv_val(v, bits); };
  const z3::expr regions = mem::context_field(m0, cp, off::kRegions, 8);
  const auto entry = [&](const z3::expr& index) { return regions + bv(sizeof(vm::Region)) * index; };
  const auto read = [&](const z3::expr& e, std::size_t field, unsigned bytes) {
    return mem::read_le(m0, (e + bv(field)).simplify(), bytes);
  };
  const z3::expr stack = entry(bv(kStack));
  const z3::expr input = entry(bv(kInput));
  const z3::expr packet = entry(bv(kNull));
  const z3::expr length = ctx.bv_const("witness_input_length", 64);
  const z3::expr writable = read(input, offsetof(vm::Region, writable), 1);
  const z3::expr packet_mode = writable == bv(0, 8);
  z3::expr_vector c(ctx);
  c.push_back(regs[isa::kFramePointer] == bv(vm::region_base(kStack) + kStackBytes));
  c.push_back(read(stack, offsetof(vm::Region, lo), 8) == bv(kStackBytes - vm::kStackFrameBytes));
  c.push_back(read(stack, offsetof(vm::Region, hi), 8) == bv(kStackBytes));
  c.push_back(read(stack, offsetof(vm::Region, writable), 1) == bv(1, 8));
  c.push_back(read(input, offsetof(vm::Region, lo), 8) == bv(0));
  c.push_back(read(input, offsetof(vm::Region, hi), 8) == length);
  c.push_back(writable == bv(0, 8) || writable == bv(1, 8));
  const z3::expr input_host = read(input, offsetof(vm::Region, host), 8);
  const z3::expr packet_host = read(packet, offsetof(vm::Region, host), 8) + bv(vm::kPacketBase);
  // Memory mode: 8 to 64 bytes, a multiple of 8; region 0 unmapped.
  c.push_back(z3::implies(!packet_mode, z3::uge(length, bv(8)) && z3::ule(length, bv(kWitnessInputMax)) &&
                                            (length & bv(7)) == bv(0) &&
                                            read(packet, offsetof(vm::Region, lo), 8) == bv(0) &&
                                            read(packet, offsetof(vm::Region, hi), 8) == bv(0)));
  // Packet mode: the input region is the xdp_md the interpreter writes.
  const vm::XdpMd md{static_cast<uint32_t>(vm::kPacketBase),
                     static_cast<uint32_t>(vm::kPacketBase + kWitnessPacketBytes),
                     static_cast<uint32_t>(vm::kPacketBase),
                     0,
                     0,
                     0};
  z3::expr_vector xdp(ctx);
  xdp.push_back(length == bv(sizeof md));
  const auto* md_bytes = reinterpret_cast<const uint8_t*>(&md);
  for (std::size_t i = 0; i < sizeof md; ++i)
    xdp.push_back(z3::select(m0, input_host + bv(i)) == bv(md_bytes[i], 8));
  xdp.push_back(read(packet, offsetof(vm::Region, lo), 8) == bv(vm::kPacketBase));
  xdp.push_back(read(packet, offsetof(vm::Region, hi), 8) == bv(vm::kPacketBase + kWitnessPacketBytes));
  xdp.push_back(read(packet, offsetof(vm::Region, writable), 1) == bv(1, 8));
  c.push_back(z3::implies(packet_mode, z3::mk_and(xdp)));
  // Any other region the address names is unmapped.
  const z3::expr index = z3::lshr(address, bv(vm::kRegionShift));
  c.push_back(index == bv(kStack) || index == bv(kInput) || index == bv(kNull) ||
              z3::uge(index, bv(vm::kMaxRegions)) ||
              (read(entry(index), offsetof(vm::Region, lo), 8) == bv(0) &&
               read(entry(index), offsetof(vm::Region, hi), 8) == bv(0)));
  // The context, the region table, the stack, the input and the packet are distinct objects.
  const std::array<std::pair<z3::expr, uint64_t>, 5> objects = {
      std::pair{cp, uint64_t{sizeof(jit::JitContext)}},
      std::pair{regions, uint64_t{sizeof(vm::Region) * vm::kMaxRegions}},
      std::pair{read(stack, offsetof(vm::Region, host), 8), kStackBytes},
      std::pair{input_host, uint64_t{kWitnessInputMax}},
      std::pair{packet_host, uint64_t{kWitnessPacketBytes}}};
  keep_apart(c, objects);
  return {z3::mk_and(c), input_host, length, packet_mode, packet_host};
}

PacketTestRun packet_test_run(z3::context& ctx, const z3::expr& m0, const z3::expr& cp,
                              const std::array<z3::expr, isa::kNumRegisters>& regs) {
  namespace off = jit::offsets;
  const auto bv = [&](uint64_t v, unsigned bits = 64) { return ctx.bv_val(v, bits); };
  const z3::expr length = mem::context_field(m0, cp, off::kPacketLen, 8);
  const z3::expr packet = mem::context_field(m0, cp, off::kPacket, 8);
  z3::expr_vector c(ctx);
  c.push_back(regs[isa::kFramePointer] == bv(vm::region_base(kStack) + kStackBytes));
  c.push_back(mem::context_field(m0, cp, off::kDepth, 4) == bv(0, 32));
  c.push_back(z3::ule(length, bv(kWitnessInputMax)));
  const std::array<std::pair<z3::expr, uint64_t>, 4> objects = {
      std::pair{cp, uint64_t{sizeof(jit::JitContext)}},
      std::pair{mem::context_field(m0, cp, off::kRegions, 8), uint64_t{sizeof(vm::Region) * vm::kMaxRegions}},
      std::pair{mem::context_field(m0, cp, off::kFrames, 8), uint64_t{sizeof(vm::CallFrame)}},
      std::pair{packet, uint64_t{kWitnessInputMax}}};
  keep_apart(c, objects);
  return {z3::mk_and(c), packet, length};
}

Result<std::string> mem_counterexample_data(const MemCase& c, const MemWitness& w, std::string_view comment) {
  std::vector<isa::RawInsn> slots;
  for (uint8_t r = 0; r < isa::kFramePointer; ++r) {
    const auto pair = isa::encode_lddw_imm64(r, w.regs[r]);
    slots.insert(slots.end(), pair.begin(), pair.end());
  }
  slots.push_back(mem_case_instruction(c));
  for (uint8_t r = 1; r < isa::kFramePointer; ++r)
    fold_into_r0(slots, r);
  const uint64_t index = w.address >> vm::kRegionShift;
  const auto offset = static_cast<int64_t>(w.address & vm::kRegionOffsetMask);
  if (index == kInput || (index == kNull && w.packet_mode)) {
    const std::size_t bytes = index == kNull  ? w.input.size()
                              : w.packet_mode ? sizeof(vm::XdpMd)
                                              : w.input.size();
    const auto pair = isa::encode_lddw_imm64(9, index == kNull ? vm::kPacketBase : vm::region_base(kInput));
    slots.insert(slots.end(), pair.begin(), pair.end());
    for (std::size_t k = 0; k + 8 <= bytes; k += 8)
      fold_doubleword(slots, 9, static_cast<int16_t>(k));
  } else if (index == kStack) {
    // The frame's doublewords from the one before the access to the one after it.
    const int64_t top = static_cast<int64_t>(kStackBytes);
    const int64_t first = ((offset - top) & ~int64_t{7}) - 8;
    const int64_t last = ((offset - top + 7) & ~int64_t{7}) + 8;
    for (int64_t d = first; d <= last; d += 8) {
      if (d >= -static_cast<int64_t>(vm::kStackFrameBytes) && d <= -8)
        fold_doubleword(slots, isa::kFramePointer, static_cast<int16_t>(d));
    }
  }
  slots.push_back(isa::encode(isa::Form::exit));

  InterpretedRun run;
  run.memory = w.input;
  run.mode = w.packet_mode ? vm::RunMode::Packet : vm::RunMode::Memory;
  return interpreted_data_test(slots, run, comment);
}

}  // namespace bpfdiff::oracle::smt
