#include "vm/program/validate.hpp"

#include "vm/program/maps.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace bpfdiff::vm {
namespace {

using isa::FormInfo;
using isa::RawInsn;
using isa::RegRule;
using isa::ValueRule;

Error at(std::size_t pc, const char* field, const std::string& reason) {
  return make_error("pc " + std::to_string(pc) + ": " + field + ": " + reason);
}

std::optional<std::string> check_register(uint8_t reg, RegRule rule) {
  switch (rule) {
    case RegRule::Zero:
      if (reg != 0) return "reserved field must be 0, is " + std::to_string(reg);
      return std::nullopt;
    case RegRule::Readable:
      if (reg >= isa::kNumRegisters) return "register r" + std::to_string(reg) + " does not exist";
      return std::nullopt;
    case RegRule::Writable:
      if (reg >= isa::kNumRegisters) return "register r" + std::to_string(reg) + " does not exist";
      if (reg == isa::kFramePointer) return "r10 is the read-only frame pointer";
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> check_value(int32_t value, ValueRule rule, int32_t exact) {
  switch (rule) {
    case ValueRule::Zero:
      if (value != 0) return "reserved field must be 0, is " + std::to_string(value);
      return std::nullopt;
    case ValueRule::Any:
      return std::nullopt;
    case ValueRule::Exact:
      if (value != exact) return "must be " + std::to_string(exact) + ", is " + std::to_string(value);
      return std::nullopt;
  }
  return std::nullopt;
}

class Validator {
 public:
  Validator(const Program& p, const HelperRegistry& h) : program_(p), helpers_(h), n_(p.slots.size()) {}

  Result<LoadedProgram> run() {
    if (n_ == 0) return make_error("program is empty");
    if (n_ > kMaxProgramSlots) {
      return make_error("program has " + std::to_string(n_) + " instructions, more than the limit of " +
                        std::to_string(kMaxProgramSlots));
    }
    if (program_.entry >= n_)
      return make_error("entry point " + std::to_string(program_.entry) + " is outside the program");
    if (auto e = check_maps(program_.maps); !e.ok()) return e.error();

    out_.source = program_;
    out_.insns.resize(n_);
    second_slot_.assign(n_, false);
    function_start_.assign(n_, false);
    function_start_[program_.entry] = true;

    // Pass 1: every slot decodes to a form whose fields obey the row's rules.
    for (std::size_t pc = 0; pc < n_; ++pc) {
      if (auto e = decode_one(pc); !e.ok()) return e.error();
      if (isa::info(out_.insns[pc].form).slots == 2) ++pc;
    }
    if (second_slot_[program_.entry]) {
      return make_error("entry point " + std::to_string(program_.entry) + " is the second slot of an lddw");
    }
    if (auto e = check_program_starts(); !e.ok()) return e.error();
    // Pass 2: control-flow targets, now that every slot's kind is known.
    for (std::size_t pc = 0; pc < n_; ++pc) {
      if (second_slot_[pc]) continue;
      if (auto e = check_targets(pc); !e.ok()) return e.error();
    }
    if (auto e = check_no_fall_through(); !e.ok()) return e.error();

    for (std::size_t pc = 0; pc < n_; ++pc) {
      if (function_start_[pc]) out_.function_starts.push_back(static_cast<uint32_t>(pc));
    }
    return std::move(out_);
  }

 private:
  Result<void> decode_one(std::size_t pc) {
    const RawInsn& raw = program_.slots[pc];
    const auto form = isa::find_form(raw);
    if (!form) return at(pc, "opcode", isa::describe_unknown(raw));
    const FormInfo& fi = isa::info(*form);

    if (auto why = check_register(raw.dst, fi.rules.dst)) return at(pc, "dst", *why);
    if (fi.disc != isa::Disc::Src) {
      if (auto why = check_register(raw.src, fi.rules.src)) return at(pc, "src", *why);
    }
    if (auto why = check_value(raw.off, fi.rules.off, fi.disc_value)) return at(pc, "off", *why);
    if (auto why = check_value(raw.imm, fi.rules.imm, fi.disc_value)) return at(pc, "imm", *why);

    Insn& insn = out_.insns[pc];
    insn.form = *form;
    insn.dst = raw.dst;
    insn.src = raw.src;
    insn.off = raw.off;
    insn.imm = raw.imm;
    if (fi.slots == 2) return decode_lddw(pc, fi);
    return {};
  }

  Result<void> decode_lddw(std::size_t pc, const FormInfo& fi) {
    if (pc + 1 >= n_) return at(pc, "opcode", "lddw is truncated: its second slot is missing");
    const RawInsn& next = program_.slots[pc + 1];
    if (next.opcode != 0) return at(pc + 1, "opcode", "second slot of lddw must have opcode 0");
    if (next.dst != 0) return at(pc + 1, "dst", "second slot of lddw: reserved field must be 0");
    if (next.src != 0) return at(pc + 1, "src", "second slot of lddw: reserved field must be 0");
    if (next.off != 0) return at(pc + 1, "off", "second slot of lddw: reserved field must be 0");
    second_slot_[pc + 1] = true;

    Insn& insn = out_.insns[pc];
    const RawInsn& raw = program_.slots[pc];
    switch (fi.sem.lddw) {
      case isa::LddwKind::Imm64:
        insn.imm64 = static_cast<uint64_t>(static_cast<uint32_t>(raw.imm)) |
                     (static_cast<uint64_t>(static_cast<uint32_t>(next.imm)) << 32);
        return {};
      case isa::LddwKind::CodeAddr:
        if (next.imm != 0) return at(pc + 1, "imm", "lddw code address: second imm must be 0");
        return {};  // target resolved in pass 2
      case isa::LddwKind::MapFd:
      case isa::LddwKind::MapIdx: {
        auto index = map_index(pc, raw.imm);
        if (!index) return index.error();
        if (next.imm != 0) return at(pc + 1, "imm", "lddw of a map handle: second imm must be 0");
        insn.imm64 = map_handle(*index);
        return {};
      }
      case isa::LddwKind::MapValue:
      case isa::LddwKind::MapIdxValue: {
        auto index = map_index(pc, raw.imm);
        if (!index) return index.error();
        const MapDef& map = program_.maps[*index];
        if (map.type != MapType::Array) {
          return at(pc, "imm",
                    "lddw of a map value needs an array map, map " + std::to_string(*index) + " is a " +
                        to_string(map.type) + " map");
        }
        const auto offset = static_cast<uint32_t>(next.imm);
        if (offset >= map.value_size) {
          return at(pc, "imm",
                    "offset " + std::to_string(offset) + " is past the " + std::to_string(map.value_size) +
                        "-byte value of map " + std::to_string(*index));
        }
        insn.imm64 = map_values_base(*index) + offset;
        return {};
      }
      case isa::LddwKind::BtfVar:
        return at(pc, "src", "lddw of a kernel variable by BTF id is not available outside the kernel");
    }
    return {};
  }

  Result<uint32_t> map_index(std::size_t pc, int32_t imm) {
    const std::size_t count = program_.maps.size();
    const auto index = static_cast<uint32_t>(imm);
    if (count == 0) {
      return at(pc, "imm", "lddw refers to map " + std::to_string(index) + ", but the program has no maps");
    }
    if (index >= count) {
      return at(pc, "imm",
                "lddw refers to map " + std::to_string(index) + ", but the program has " +
                    std::to_string(count) + (count == 1 ? " map" : " maps"));
    }
    return index;
  }

  // A slot that starts a program or a tail-call target: inside the program
  // and on an instruction boundary. It becomes a function start, so the
  // fall-through check and the JIT's function table cover it.
  Result<void> program_start(uint32_t slot, const std::string& what) {
    if (slot >= n_) {
      return make_error(what + ": slot " + std::to_string(slot) + " is outside the program (0.." +
                        std::to_string(n_ - 1) + ")");
    }
    if (second_slot_[slot])
      return make_error(what + ": slot " + std::to_string(slot) + " is the second slot of an lddw");
    function_start_[slot] = true;
    return {};
  }

  Result<void> check_program_starts() {
    for (const ProgramEntry& e : program_.entries) {
      if (auto r = program_start(e.slot, "program '" + e.name + "'"); !r.ok()) return r.error();
    }
    for (std::size_t i = 0; i < program_.maps.size(); ++i) {
      for (const auto& [key, slot] : program_.maps[i].prog_entries) {
        const std::string what = "map " + std::to_string(i) + " key " + std::to_string(key);
        if (auto r = program_start(slot, what); !r.ok()) return r.error();
      }
    }
    return {};
  }

  // Target of a pc-relative branch; rejects targets outside the program or
  // inside an lddw.
  Result<uint32_t> target(std::size_t pc, int64_t delta, const char* field) {
    const int64_t t = static_cast<int64_t>(pc) + delta + 1;
    if (t < 0 || t >= static_cast<int64_t>(n_)) {
      return at(
          pc, field,
          "target " + std::to_string(t) + " is outside the program (0.." + std::to_string(n_ - 1) + ")");
    }
    if (second_slot_[static_cast<std::size_t>(t)]) {
      return at(pc, field, "target " + std::to_string(t) + " is the second slot of an lddw");
    }
    return static_cast<uint32_t>(t);
  }

  Result<void> check_targets(std::size_t pc) {
    Insn& insn = out_.insns[pc];
    const isa::Semantics& s = isa::info(insn.form).sem;
    switch (s.family) {
      case isa::Family::Jump: {
        const bool long_jump = s.cond == isa::JmpCond::Always && s.width == isa::Width::W32;
        auto t = long_jump ? target(pc, insn.imm, "imm") : target(pc, insn.off, "off");
        if (!t) return t.error();
        insn.target = *t;
        return {};
      }
      case isa::Family::Call:
        switch (s.call) {
          case isa::CallKind::Helper:
            if (helpers_.find(static_cast<uint32_t>(insn.imm)) == nullptr) {
              return at(pc, "imm",
                        "call to unregistered helper " + std::to_string(static_cast<uint32_t>(insn.imm)));
            }
            return {};
          case isa::CallKind::Local: {
            auto t = target(pc, insn.imm, "imm");
            if (!t) return t.error();
            insn.target = *t;
            function_start_[*t] = true;
            return {};
          }
          case isa::CallKind::Indirect:
            return {};
        }
        return {};
      case isa::Family::Lddw:
        if (s.lddw == isa::LddwKind::CodeAddr) {
          auto t = target(pc, insn.imm, "imm");
          if (!t) return t.error();
          insn.target = *t;
          insn.imm64 = region_base(RegionId::Code) + uint64_t{*t} * isa::kSlotBytes;
          function_start_[*t] = true;
        }
        return {};
      case isa::Family::Alu:
      case isa::Family::Endian:
      case isa::Family::Exit:
      case isa::Family::Load:
      case isa::Family::LoadSigned:
      case isa::Family::StoreImm:
      case isa::Family::StoreReg:
      case isa::Family::Atomic:
      case isa::Family::PacketLoad:
        return {};
    }
    return {};
  }

  // Functions are the ranges between consecutive function starts; the last
  // instruction of each must end it (exit or an unconditional jump), or
  // execution would fall into the next function or off the end.
  Result<void> check_no_fall_through() {
    for (std::size_t pc = 0; pc < n_; ++pc) {
      if (second_slot_[pc]) continue;
      std::size_t next = pc + isa::info(out_.insns[pc].form).slots;
      const bool ends_function = next >= n_ || function_start_[next];
      if (!ends_function) continue;
      const isa::Semantics& s = isa::info(out_.insns[pc].form).sem;
      const bool terminates =
          s.family == isa::Family::Exit || (s.family == isa::Family::Jump && s.cond == isa::JmpCond::Always);
      if (!terminates) {
        return at(pc, "opcode",
                  next >= n_
                      ? "last instruction can fall through past the end of the program"
                      : "instruction can fall through into the function at pc " + std::to_string(next));
      }
    }
    return {};
  }

  const Program& program_;
  const HelperRegistry& helpers_;
  const std::size_t n_;
  LoadedProgram out_;
  std::vector<bool> second_slot_;
  std::vector<bool> function_start_;
};

}  // namespace

Result<LoadedProgram> validate(const Program& program, const HelperRegistry& helpers) {
  return Validator(program, helpers).run();
}

}  // namespace bpfdiff::vm
