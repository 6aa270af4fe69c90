#include "oracle/verifier_state_check.hpp"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>

#include "oracle/engine.hpp"
#include "oracle/kernel/bpf_syscall.hpp"
#include "oracle/kernel/full_state_rewrite.hpp"
#include "oracle/kernel/kernel_executor.hpp"
#include "oracle/kernel/kernel_maps.hpp"
#include "oracle/kernel_engine.hpp"
#include "vm/interp/interpreter.hpp"
#include "vm/isa/encode.hpp"
#include "vm/program/validate.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::oracle {
namespace {

using kernel::LoggedState;
using kernel::ValueClaim;
using kernel::ValueKind;

constexpr uint64_t kFrameBytes = vm::kStackFrameBytes;

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%#" PRIx64, v);
  return b;
}

// A map's values as our VM lays them out: entry k at base + k * value_size.
struct MapArea {
  uint64_t base = 0;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t entries = 0;
};

// Where our run's values are, to turn a logged pointer claim into an address.
struct Frames {
  uint64_t entry_fp = 0;  // r10 of the entry function
  // What a map_value pointer may point into: the memory (the prologues
  // present it as the value of a one-entry array) and the program's maps.
  std::vector<MapArea> maps;
  uint64_t fp(int frame) const { return entry_fp - kFrameBytes * static_cast<uint64_t>(frame); }
};

std::vector<MapArea> map_areas(const vm::Program& program, std::size_t memory_size) {
  std::vector<MapArea> out;
  if (memory_size > 0)
    out.push_back({vm::region_base(vm::RegionId::Input), 4, static_cast<uint32_t>(memory_size), 1});
  for (std::size_t i = 0; i < program.maps.size(); ++i) {
    const vm::MapDef& m = program.maps[i];
    if (m.type == vm::MapType::ProgArray) continue;  // its values are programs, never pointed into
    out.push_back({vm::map_values_base(static_cast<uint32_t>(i)), m.key_size, m.value_size, m.max_entries});
  }
  return out;
}

// A map_value claim's offset is from the start of the value a lookup (or a
// direct `lddw map_value`) gave; the claim does not say which map or which
// entry. `v` is inside it when it is for some map of the logged sizes and
// some entry of it: no report unless no value the verifier could have
// meant contains it.
bool map_value_contains(const ValueClaim& c, uint64_t v, const std::vector<MapArea>& maps) {
  for (const MapArea& m : maps) {
    if (c.map_key_size != 0 && c.map_key_size != m.key_size) continue;
    if (c.map_value_size != 0 && c.map_value_size != m.value_size) continue;
    for (uint32_t k = 0; k < m.entries; ++k) {
      const uint64_t value_start = m.base + uint64_t{k} * m.value_size;
      if (c.var.contains(v - value_start - static_cast<uint64_t>(c.off))) return true;
    }
  }
  return false;
}

// Whether `v` (our concrete value) is inside the claim; only called for
// claims that are not ValueKind::Other.
bool contains(const ValueClaim& c, uint64_t v, int state_frame, const Frames& frames) {
  uint64_t base = 0;
  switch (c.kind) {
    case ValueKind::Scalar:
      return c.var.contains(v);
    case ValueKind::Stack:
      if (c.frame < 0) {
        // "fp-8" without a frame number: the state's own frame from 6.8 on,
        // any frame up to it in 6.1 (which never prints the number).
        for (int f = 0; f <= state_frame; ++f) {
          if (c.var.contains(v - frames.fp(f) - static_cast<uint64_t>(c.off))) return true;
        }
        return false;
      }
      base = frames.fp(c.frame);
      break;
    case ValueKind::Ctx:
      base = vm::region_base(vm::RegionId::Input);
      break;
    case ValueKind::MapValue:
      return map_value_contains(c, v, frames.maps);
    case ValueKind::Other:
      return true;
  }
  return c.var.contains(v - base - static_cast<uint64_t>(c.off));
}

bool claims_something(const std::optional<ValueClaim>& c) {
  return c && c->kind != ValueKind::Other && !(c->kind == ValueKind::Scalar && c->var.knows_nothing());
}

class Replay {
 public:
  Replay(const kernel::VerifierLog& log, uint32_t shift, const vm::Interpreter& interp, StateCheckResult& out,
         bool spill_sizes_logged, std::vector<MapArea> maps)
      : log_(log), shift_(shift), interp_(interp), out_(out), spill_sizes_logged_(spill_sizes_logged) {
    frames_.maps = std::move(maps);
  }

  void step(uint32_t pc, const std::array<uint64_t, isa::kNumRegisters>& regs) {
    if (out_.steps++ == 0) frames_.entry_fp = regs[10];
    const uint64_t kp = uint64_t{pc} + shift_;
    if (kp >= log_.visited.size()) return;
    if (log_.complete && !log_.visited[kp] && unvisited_reported_.insert({pc, true}).second) {
      out_.violations.push_back(
          {ViolationKind::Unvisited, pc, "", 0, "the verifier never visited this instruction"});
    }
    if (!checking_) return;
    if (log_.pruned_at[kp]) {
      checking_ = false;
      return;
    }
    ++out_.steps_checked;
    if (log_.unknown[kp]) return;
    const int depth = static_cast<int>((frames_.entry_fp - regs[10]) / kFrameBytes);
    std::vector<const LoggedState*> states;
    for (const LoggedState& s : log_.states[kp]) {
      if (s.frame == depth) states.push_back(&s);
    }
    if (states.empty()) return;
    for (uint8_t r = 0; r < isa::kNumRegisters; ++r)
      check_register(pc, r, regs[r], states, depth);
    check_slots(pc, states, depth);
  }

 private:
  void check_register(uint32_t pc, uint8_t r, uint64_t value, const std::vector<const LoggedState*>& states,
                      int depth) {
    for (const LoggedState* s : states) {
      if (!claims_something(s->regs[r])) return;
    }
    ++out_.values_checked;
    std::string claim;
    for (const LoggedState* s : states) {
      if (contains(*s->regs[r], value, depth, frames_)) return;
      claim += (claim.empty() ? "" : " | ") + s->regs[r]->text;
    }
    report(ViolationKind::Value, pc, "r" + std::to_string(r), value, claim);
  }

  std::optional<uint64_t> stack_u64(int depth, int32_t off, std::size_t len = 8) const {
    const std::span<const uint8_t> stack = interp_.stack();
    const uint64_t addr = frames_.fp(depth) + static_cast<uint64_t>(static_cast<int64_t>(off));
    const uint64_t index = addr - vm::region_base(vm::RegionId::Stack);
    if (index + len > stack.size()) return std::nullopt;
    uint64_t v = 0;
    std::memcpy(&v, stack.data() + index, len);
    return v;
  }

  void check_slots(uint32_t pc, const std::vector<const LoggedState*>& states, int depth) {
    for (const auto& [off, first] : states.front()->slots) {
      std::vector<const kernel::SlotClaim*> claims;
      for (const LoggedState* s : states) {
        auto it = s->slots.find(off);
        if (it == s->slots.end()) break;
        claims.push_back(&it->second);
      }
      if (claims.size() != states.size()) continue;
      const std::optional<uint64_t> word = stack_u64(depth, off);
      if (!word) continue;
      const std::string where = "fp" + std::to_string(off);
      // A whole 8-byte spill in every state: the word is the spilled value.
      bool all_spilled = true;
      for (const kernel::SlotClaim* c : claims) {
        all_spilled = all_spilled && c->types.empty() && claims_something(c->spilled);
      }
      if (all_spilled && spill_sizes_logged_) {
        ++out_.values_checked;
        std::string text;
        bool inside = false;
        for (const kernel::SlotClaim* c : claims) {
          inside = inside || contains(*c->spilled, *word, depth, frames_);
          text += (text.empty() ? "" : " | ") + c->spilled->text;
        }
        if (!inside) report(ViolationKind::Slot, pc, where, *word, text);
        continue;
      }
      if (all_spilled) continue;
      // Bytes every state says are zero (STACK_ZERO).
      for (std::size_t j = 0; j < 8; ++j) {
        bool zero_everywhere = true;
        for (const kernel::SlotClaim* c : claims)
          zero_everywhere = zero_everywhere && j < c->types.size() && c->types[j] == '0';
        if (!zero_everywhere) continue;
        ++out_.values_checked;
        const auto byte = static_cast<uint8_t>(*word >> (8 * (7 - j)));
        if (byte != 0) {
          std::string text;
          for (const kernel::SlotClaim* c : claims)
            text += (text.empty() ? "" : " | ") + c->types;
          report(ViolationKind::Slot, pc, where + " byte " + std::to_string(7 - j), byte,
                 "STACK_ZERO: " + text);
        }
      }
    }
  }

  void report(ViolationKind kind, uint32_t pc, std::string where, uint64_t value, std::string claim) {
    // One report per pc and place: a loop would repeat it every turn.
    if (!reported_.insert({std::to_string(pc) + where, true}).second) return;
    out_.violations.push_back({kind, pc, std::move(where), value, std::move(claim)});
  }

  const kernel::VerifierLog& log_;
  uint32_t shift_;
  const vm::Interpreter& interp_;
  StateCheckResult& out_;
  Frames frames_;
  bool spill_sizes_logged_;
  bool checking_ = true;
  std::map<std::string, bool> reported_;
  std::map<uint32_t, bool> unvisited_reported_;
};

// BPF_PROG_LOAD with a log of `level`; the log, or the errno.
kernel::SysResult<kernel::Fd> load_logged(std::span<const isa::RawInsn> insns, uint32_t level,
                                          std::vector<char>& buf) {
  std::vector<bpf_insn> raw(insns.size());
  for (std::size_t i = 0; i < insns.size(); ++i) {
    raw[i].code = insns[i].opcode;
    raw[i].dst_reg = insns[i].dst & 0x0f;
    raw[i].src_reg = insns[i].src & 0x0f;
    raw[i].off = insns[i].off;
    raw[i].imm = insns[i].imm;
  }
  static const char kLicense[] = "GPL";
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SYSCALL;
  attr.prog_flags = BPF_F_SLEEPABLE;
  attr.insns = reinterpret_cast<uintptr_t>(raw.data());
  attr.insn_cnt = static_cast<uint32_t>(raw.size());
  attr.license = reinterpret_cast<uintptr_t>(kLicense);
  buf[0] = '\0';
  attr.log_level = level;
  attr.log_buf = reinterpret_cast<uintptr_t>(buf.data());
  attr.log_size = static_cast<uint32_t>(buf.size());
  const long fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (fd < 0) return {kernel::Fd(), errno};
  return {kernel::Fd(static_cast<int>(fd)), 0};
}

}  // namespace

const char* to_string(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::Unvisited:
      return "unvisited";
    case ViolationKind::Value:
      return "value";
    case ViolationKind::Slot:
      return "slot";
    case ViolationKind::Fault:
      return "fault";
  }
  return "?";
}

const char* to_string(CheckStatus status) {
  switch (status) {
    case CheckStatus::Checked:
      return "checked";
    case CheckStatus::Rejected:
      return "rejected";
    case CheckStatus::Unsupported:
      return "unsupported";
    case CheckStatus::Failed:
      return "failed";
  }
  return "?";
}

std::string StateViolation::describe() const {
  std::string s = std::string(to_string(kind)) + " at pc " + std::to_string(pc);
  if (!where.empty())
    s += ": " + where + " = " + hex(value) + ", the verifier's states there: " + claim;
  else
    s += ": " + claim;
  return s;
}

StateCheckResult check_states(const vm::Program& program, std::span<const uint8_t> memory,
                              const kernel::VerifierLog& log, uint32_t pc_shift, bool spill_sizes_logged) {
  StateCheckResult out;
  out.log_complete = log.complete;
  auto loaded = vm::validate(program, default_helpers());
  if (!loaded) {
    out.status = CheckStatus::Failed;
    out.reason = "our validator rejects it: " + loaded.error().message;
    return out;
  }
  vm::Interpreter interp(*loaded, default_helpers());
  std::vector<uint8_t> mem(memory.begin(), memory.end());
  Replay replay(log, pc_shift, interp, out, spill_sizes_logged, map_areas(program, memory.size()));
  const vm::RunResult run = interp.run_traced(vm::RunInput{vm::RunMode::Memory, mem},
                                              [&](uint32_t pc, const auto& regs) { replay.step(pc, regs); });
  if (!run.ok()) {
    out.violations.push_back({ViolationKind::Fault, run.error.pc, "", 0, vm::describe(run.error)});
  }
  out.status = CheckStatus::Checked;
  return out;
}

std::vector<isa::RawInsn> state_check_prologue(int map_fd, uint32_t memory_size, bool zero_registers) {
  std::vector<isa::RawInsn> out;
  if (memory_size > 0) {
    const auto lddw = isa::encode_lddw(isa::Form::lddw_map_value, 1, map_fd, 0);
    out.push_back(lddw[0]);
    out.push_back(lddw[1]);
  } else {
    out.push_back(isa::encode(isa::Form::mov_imm, 1, 0, 0, 0));
  }
  out.push_back(isa::encode(isa::Form::mov_imm, 2, 0, 0, static_cast<int32_t>(memory_size)));
  if (zero_registers) {
    for (uint8_t r : {0, 3, 4, 5, 6, 7, 8, 9})
      out.push_back(isa::encode(isa::Form::mov_imm, r, 0, 0, 0));
  }
  return out;
}

bool kernel_logs_spill_sizes(std::string_view release) {
  unsigned major = 0, minor = 0;
  if (std::sscanf(std::string(release).c_str(), "%u.%u", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 8);
}

struct VerifierStateChecker::Impl {
  StateCheckOptions options;
  std::map<uint32_t, kernel::Fd> maps;  // the memory's, by value size
  kernel::KernelMapPool program_maps;   // the program's own maps, of the program checked last
  std::vector<char> log;
  bool spill_sizes_logged = false;
};

VerifierStateChecker::VerifierStateChecker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VerifierStateChecker::~VerifierStateChecker() = default;

Result<std::unique_ptr<VerifierStateChecker>> VerifierStateChecker::create(const StateCheckOptions& options) {
  if (auto probe = kernel::probe_kernel(); !probe) return probe.error();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->log.resize(std::size_t{1} << 20);
  utsname u{};
  impl->spill_sizes_logged = uname(&u) == 0 && kernel_logs_spill_sizes(u.release);
  return std::unique_ptr<VerifierStateChecker>(new VerifierStateChecker(std::move(impl)));
}

Result<std::vector<isa::RawInsn>> VerifierStateChecker::kernel_program(const vm::Program& program,
                                                                       std::size_t memory_size,
                                                                       uint32_t* prologue) {
  if (program.entry != 0) return make_error("the entry function must come first");
  if (memory_size > UINT32_MAX / 2) return make_error("the memory is too large");
  for (const vm::MapDef& m : program.maps) {
    if (m.type == vm::MapType::ProgArray) {
      return make_error(
          "programs with a program array are not loaded for the state check: a tail call's target "
          "would start at the prologue again, not where our VM's does");
    }
  }
  const auto map_count = static_cast<uint32_t>(program.maps.size());
  if (auto ok = kernel::check_expressible(program.slots, true, map_count); !ok) return ok.error();
  // The program's maps as every kernel run creates them (kernel_maps.hpp:
  // a .rodata frozen with its contents, which the verifier reads).
  std::vector<isa::RawInsn> body = program.slots;
  if (map_count > 0) {
    if (auto ok = impl_->program_maps.acquire(request_maps(program)); !ok) return ok.error();
    if (auto ok = impl_->program_maps.reset(); !ok) return ok.error();
    body = kernel::relocate_maps(program.slots, impl_->program_maps.fds());
  }
  std::vector<isa::RawInsn> out;
  const auto size = static_cast<uint32_t>(memory_size);
  if (size > 0) {
    auto it = impl_->maps.find(size);
    if (it == impl_->maps.end()) {
      auto fd = kernel::create_mmapable_array(size, "bpfdiff_vsc");
      if (!fd.ok()) return make_error("bpf(BPF_MAP_CREATE): " + kernel::errno_name(fd.err));
      it = impl_->maps.emplace(size, std::move(fd.value)).first;
    }
    out = state_check_prologue(it->second.get(), size, impl_->options.zero_registers);
  } else {
    out = state_check_prologue(-1, 0, impl_->options.zero_registers);
  }
  if (prologue != nullptr) *prologue = static_cast<uint32_t>(out.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

StateCheckResult VerifierStateChecker::check(const vm::Program& program, std::span<const uint8_t> memory) {
  StateCheckResult out;
  uint32_t shift = 0;
  auto insns = kernel_program(program, memory.size(), &shift);
  if (!insns) {
    out.status = CheckStatus::Unsupported;
    out.reason = insns.error().message;
    return out;
  }
  for (;;) {
    auto fd = load_logged(*insns, 2, impl_->log);
    if (fd.err == ENOSPC && impl_->log.size() < impl_->options.max_log_bytes) {
      impl_->log.resize(impl_->log.size() * 2);
      continue;
    }
    const std::string_view log(impl_->log.data(), strnlen(impl_->log.data(), impl_->log.size()));
    if (fd.err == ENOSPC) {
      out.status = CheckStatus::Unsupported;
      out.reason =
          "the verifier log is larger than " + std::to_string(impl_->options.max_log_bytes) + " bytes";
      return out;
    }
    if (!fd.ok()) {
      out.status = fd.err == EPERM ? CheckStatus::Failed : CheckStatus::Rejected;
      out.reason = "bpf(BPF_PROG_LOAD): " + kernel::errno_name(fd.err);
      if (impl_->options.keep_log) out.log = std::string(log);
      return out;
    }
    const kernel::VerifierLog parsed = kernel::parse_verifier_log(log, *insns);
    out = check_states(program, memory, parsed, shift, impl_->spill_sizes_logged);
    if (impl_->options.keep_log) out.log = std::string(log);
    return out;
  }
}

}  // namespace bpfdiff::oracle
