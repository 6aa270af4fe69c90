#pragma once
// Helper functions callable with `call imm` (and callx), numbered as in Linux.
// A helper receives r1..r5 and the run's address space; every pointer it
// dereferences goes through HelperCall::access, so helpers are bounds-checked
// exactly like the program's own loads and stores.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vm/runtime/error.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::vm {

struct HelperEnv;

struct HelperCall {
  uint64_t args[5] = {};
  AddressSpace* memory = nullptr;
  void* user = nullptr;      // HelperSpec::user
  HelperEnv* env = nullptr;  // the engine's maps, trace sink, clock; see helper_env.hpp
  uint32_t pc = 0;
  std::optional<ExecError> error;
  // Set by bpf_tail_call when it succeeds: the engine continues at this slot
  // in the current frame instead of after the call.
  std::optional<uint32_t> tail_call;

  // Host pointer for [addr, addr+size) or nullptr after recording a
  // HelperFailed error that names the address.
  uint8_t* access(uint64_t addr, uint64_t size, bool write) {
    // Sizes come from program registers: one past a region's size can never
    // be in bounds, and keeps translate's offset + size from wrapping.
    if (size > kRegionOffsetMask) {
      fail(addr, UINT32_MAX);
      return nullptr;
    }
    uint8_t* p = size == 0 ? nullptr : memory->translate(addr, size, write);
    if (p == nullptr && size != 0) fail(addr, static_cast<uint32_t>(size));
    return p;
  }
  void fail(uint64_t addr, uint32_t size) {
    if (!error) error = ExecError{ErrorKind::HelperFailed, pc, addr, size};
  }
};

using HelperFn = uint64_t (*)(HelperCall& call);

struct HelperSpec {
  uint32_t id = 0;
  std::string name;  // e.g. "bpf_map_lookup_elem"; the assembler accepts `call NAME`
  HelperFn fn = nullptr;
  void* user = nullptr;
};

class HelperRegistry {
 public:
  void add(HelperSpec spec);
  const HelperSpec* find(uint32_t id) const;
  const HelperSpec* find(std::string_view name) const;
  std::vector<uint32_t> ids() const;

 private:
  std::unordered_map<uint32_t, HelperSpec> by_id_;
};

}  // namespace bpfdiff::vm
