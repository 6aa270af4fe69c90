#include "oracle/kernel_outcome.hpp"

#include <algorithm>
#include <cstring>

#include "oracle/kernel/bpf_syscall.hpp"
#include "oracle/kernel/rejection_reason.hpp"
#include "vm/runtime/memory.hpp"

namespace bpfdiff::oracle {
namespace {

// A pointer stored into the memory lies this close to its object: far
// tighter than kPointerWindow, because the memory is scanned at every byte
// offset and a scalar's bytes seen from a shifted window (-55 stored at
// [24] reads 0xffffc90000000000 from [19]) often fall within 2^29 of a
// vmalloc address; the kernel-friendly generator's boundary values hit
// that about once in 10,000 programs.
constexpr uint64_t kStoredPointerWindow = 4096;

// |value - base| when within `window` of the object (base != 0), else nothing.
bool near(uint64_t value, uint64_t base, uint64_t size, uint64_t& distance,
          uint64_t window = kPointerWindow) {
  if (base == 0) return false;
  const uint64_t below = base - value;  // wraps when value >= base
  const uint64_t above = value - base;
  if (value >= base && above <= size + window) {
    distance = above > size ? above - size : 0;
    return true;
  }
  if (value < base && below <= window) {
    distance = below;
    return true;
  }
  return false;
}

// Pointers the program stored into the memory (`stxdw [r1+8], r1`) are
// kernel addresses there too: every 8-byte window that translates is
// rewritten, and recorded with its kernel value in `translated`, because a
// scalar's bytes can still fall within kStoredPointerWindow of an object
// and must then be compared as they are (kernel_compare.cpp).
void translate_stored_pointers(std::vector<uint8_t>& memory, const KernelBases& bases,
                               std::vector<KernelOutcome::TranslatedWord>& translated) {
  for (std::size_t off = 0; off + 8 <= memory.size();) {
    uint64_t v;
    std::memcpy(&v, memory.data() + off, sizeof v);
    const uint64_t t = translate_pointer(v, bases, kStoredPointerWindow);
    if (t == v) {
      ++off;
      continue;
    }
    std::memcpy(memory.data() + off, &t, sizeof t);
    translated.push_back({static_cast<uint32_t>(off), v});
    off += 8;
  }
}

}  // namespace

uint64_t translate_pointer(uint64_t value, const KernelBases& b) {
  return translate_pointer(value, b, kPointerWindow);
}

uint64_t translate_pointer(uint64_t value, const KernelBases& b, uint64_t window) {
  uint64_t to_memory = 0, to_stack = 0;
  // The frame's live bytes lie below frame_base, so the stack's "object"
  // is the 512 bytes under it: measure from its lowest address.
  const uint64_t frame_low = b.frame_base == 0 ? 0 : b.frame_base - vm::kStackFrameBytes;
  const bool in_memory = near(value, b.memory_base, b.memory_size, to_memory, window);
  const bool in_stack = near(value, frame_low, vm::kStackFrameBytes, to_stack, window);
  // The nearest array map's values, if nearer than both.
  const MapValueBase* map = nullptr;
  uint64_t to_map = 0;
  for (const MapValueBase& m : b.maps) {
    const uint64_t stride = (uint64_t{m.value_size} + 7) / 8 * 8;
    uint64_t d = 0;
    if (near(value, m.kernel_base, stride * m.entries, d, window) && (map == nullptr || d < to_map)) {
      map = &m;
      to_map = d;
    }
  }
  if (map != nullptr && (!in_memory || to_map < to_memory) && (!in_stack || to_map < to_stack)) {
    const uint64_t stride = (uint64_t{map->value_size} + 7) / 8 * 8;
    const uint64_t ours = vm::map_values_base(map->index);
    const uint64_t d = value - map->kernel_base;  // wraps below the base: linear there
    if (value >= map->kernel_base && d < stride * map->entries)
      return ours + (d / stride) * map->value_size + d % stride;
    return ours + d;
  }
  if (in_memory && (!in_stack || to_memory <= to_stack)) {
    return vm::region_base(vm::RegionId::Input) + (value - b.memory_base);
  }
  if (in_stack) return b.our_stack_top + (value - b.frame_base);
  return value;
}

std::vector<vm::MapSnapshot> to_snapshots(const std::vector<kernel::KernelMapContents>& contents,
                                          std::span<const kernel::KernelMap> maps) {
  std::vector<vm::MapSnapshot> out;
  for (std::size_t i = 0; i < contents.size(); ++i) {
    vm::MapSnapshot s;
    s.type = i < maps.size() ? static_cast<vm::MapType>(maps[i].type) : vm::MapType::Array;
    for (const kernel::KernelMapEntry& e : contents[i].entries)
      s.entries.push_back({e.key, e.value});
    // The kernel iterates a hash map in bucket order; ours lists keys by
    // their bytes. The set is what a program can observe.
    if (s.type == vm::MapType::Hash) {
      std::sort(s.entries.begin(), s.entries.end(),
                [](const vm::MapEntry& a, const vm::MapEntry& b) { return vm::KeyLess{}(a.key, b.key); });
    }
    out.push_back(std::move(s));
  }
  return out;
}

const char* to_string(kernel::KernelVerdict verdict) {
  switch (verdict) {
    case kernel::KernelVerdict::Accepted:
      return "accepted";
    case kernel::KernelVerdict::Rejected:
      return "rejected";
    case kernel::KernelVerdict::Unsupported:
      return "unsupported";
    case kernel::KernelVerdict::Failed:
      return "failed";
  }
  return "?";
}

Outcome outcome_from_response(const std::string& engine, const kernel::KernelResponse& r,
                              const vm::ExecLimits& limits, std::span<const kernel::KernelMap> maps) {
  Outcome out;
  out.engine = engine;
  KernelOutcome k;
  k.verdict = r.verdict;
  k.errno_value = r.errno_value;
  k.log = r.log;
  k.release = r.kernel_release;
  k.regs_valid = r.regs_valid;
  k.retval = r.retval;
  k.duration_ns = r.duration_ns;
  k.phases = r.phases;
  k.plain = r.plain;
  if (r.plain.verdict == kernel::KernelVerdict::Accepted) k.plain_maps = to_snapshots(r.plain.maps, maps);
  k.instrumentation = r.instrumentation;
  k.body_offset = r.body_offset;
  k.coverage = r.coverage;
  out.memory = r.memory;
  switch (r.verdict) {
    case kernel::KernelVerdict::Accepted: {
      out.loaded = true;
      KernelBases bases;
      bases.memory_base = r.memory_base;
      bases.memory_size = r.memory.size();
      bases.frame_base = r.frame_base;
      bases.our_stack_top =
          vm::region_base(vm::RegionId::Stack) + uint64_t{limits.max_call_depth} * vm::kStackFrameBytes;
      for (std::size_t m = 0; m < r.map_value_bases.size() && m < maps.size(); ++m) {
        if (r.map_value_bases[m] == 0) continue;
        bases.maps.push_back(
            {r.map_value_bases[m], maps[m].value_size, maps[m].max_entries, static_cast<uint32_t>(m)});
      }
      out.maps = to_snapshots(r.maps, maps);
      out.maps_observed = true;
      for (std::size_t i = 0; i < r.regs.size(); ++i) {
        if ((r.regs_valid & (1u << i)) == 0) continue;
        out.regs[i] = translate_pointer(r.regs[i], bases);
        if (out.regs[i] != r.regs[i] && i < k.untranslated_regs.size()) {
          k.translated_regs |= static_cast<uint16_t>(1u << i);
          k.untranslated_regs[i] = r.regs[i];
        }
      }
      out.regs[isa::kFramePointer] = bases.our_stack_top;
      translate_stored_pointers(out.memory, bases, k.translated_memory);
      break;
    }
    case kernel::KernelVerdict::Rejected:
      k.rejection_reason = kernel::rejection_reason(r.log, r.errno_value);
      out.load_error = "kernel verifier rejected it (" + kernel::errno_name(r.errno_value) +
                       "): " + std::string(kernel::last_log_line(r.log));
      if (kernel::last_log_line(r.log).empty()) out.load_error += "(no log)";
      break;
    case kernel::KernelVerdict::Unsupported:
      out.load_error = "not expressible on the kernel: " + r.log;
      break;
    case kernel::KernelVerdict::Failed:
      out.load_error = "the kernel run failed: " + r.log;
      break;
  }
  out.kernel = std::move(k);
  return out;
}

}  // namespace bpfdiff::oracle
