#include "vm/runtime/std_helpers.hpp"

#include <cstring>
#include <span>
#include <string>

#include "vm/runtime/helper_env.hpp"
#include "vm/runtime/printk.hpp"
#include "vm/runtime/run.hpp"

namespace bpfdiff::vm {
namespace {

constexpr uint64_t errno_result(int64_t negated_errno) {
  return static_cast<uint64_t>(negated_errno);
}

// The map a handle names; records HelperFailed on the handle otherwise.
MapInstance* map_arg(HelperCall& call, uint64_t handle) {
  MapInstance* m = call.env == nullptr ? nullptr : call.env->maps.from_handle(handle);
  if (m == nullptr) call.fail(handle, 0);
  return m;
}

// Copies `size` bytes the program points to (the pointer may be into the
// very map being changed, so the helpers work on a copy).
bool read_arg(HelperCall& call, uint64_t addr, uint32_t size, std::vector<uint8_t>& out) {
  const uint8_t* p = call.access(addr, size, false);
  if (p == nullptr) return false;
  out.assign(p, p + size);
  return true;
}

uint64_t map_lookup_elem(HelperCall& call) {
  MapInstance* m = map_arg(call, call.args[0]);
  std::vector<uint8_t> key;
  if (m == nullptr || !read_arg(call, call.args[1], m->def().key_size, key)) return 0;
  const auto slot = m->find(key);
  return slot ? m->value_address(*slot) : 0;
}

uint64_t map_update_elem(HelperCall& call) {
  MapInstance* m = map_arg(call, call.args[0]);
  std::vector<uint8_t> key, value;
  if (m == nullptr || !read_arg(call, call.args[1], m->def().key_size, key) ||
      !read_arg(call, call.args[2], m->def().value_size, value)) {
    return 0;
  }
  return errno_result(m->update(key, value, call.args[3]));
}

uint64_t map_delete_elem(HelperCall& call) {
  MapInstance* m = map_arg(call, call.args[0]);
  std::vector<uint8_t> key;
  if (m == nullptr || !read_arg(call, call.args[1], m->def().key_size, key)) return 0;
  return errno_result(m->remove(key));
}

uint64_t ktime_get_ns(HelperCall& call) {
  if (call.env == nullptr) return 0;
  call.env->clock_ns += 1000;
  return call.env->clock_ns;
}

uint64_t get_prandom_u32(HelperCall& call) {
  if (call.env == nullptr) return 0;
  return call.env->next_random() >> 32;
}

// bpf_trace_printk(fmt, fmt_size, arg1, arg2, arg3): fmt_size bytes must be
// readable and hold a NUL; returns the length of the formatted message.
uint64_t trace_printk(HelperCall& call) {
  const uint64_t size = call.args[1];
  if (size == 0) return errno_result(-kEINVAL);
  const uint8_t* fmt = call.access(call.args[0], size, false);
  if (fmt == nullptr) return 0;
  const void* nul = std::memchr(fmt, 0, size);
  if (nul == nullptr) return errno_result(-kEINVAL);
  const std::string_view text(reinterpret_cast<const char*>(fmt),
                              static_cast<std::size_t>(static_cast<const uint8_t*>(nul) - fmt));
  std::string out;
  const uint64_t args[3] = {call.args[2], call.args[3], call.args[4]};
  if (!format_printk(call, text, args, out)) return errno_result(-kEINVAL);
  if (call.error) return 0;
  const std::size_t length = out.size();
  if (out.size() > kMaxPrintkOutput) out.resize(kMaxPrintkOutput);
  if (call.env != nullptr) call.env->trace.push_back(std::move(out));
  return length;
}

// bpf_tail_call(ctx, prog_array, index): on success the program at `index`
// replaces the running function in its frame (zeroed, as every frame starts)
// and never returns here; otherwise the caller continues with -ENOENT in r0.
// Only a tail call taken counts towards the limit of 33: an attempt into an
// empty slot does not. That is the rule upstream Linux settled on (the
// x86-64 JIT of 6.12 and later; the interpreter since "bpf: Do not increment
// tailcall count when prog is NULL", 3733f4be2870). Older kernels count the
// attempt too; oracle/known_kernel_bugs.cpp emulates that to label them.
uint64_t tail_call(HelperCall& call) {
  MapInstance* m = map_arg(call, call.args[1]);
  if (m == nullptr) return 0;
  if (m->def().type != MapType::ProgArray) {
    call.fail(call.args[1], 0);
    return 0;
  }
  const auto index = static_cast<uint32_t>(call.args[2]);
  if (index >= m->def().max_entries) return errno_result(-kENOENT);  // a u32, as in the kernel
  if (call.env->tail_calls >= kMaxTailCalls) return errno_result(-kENOENT);
  const auto slot = m->program_at(index);
  if (!slot) return errno_result(-kENOENT);
  ++call.env->tail_calls;
  Region& stack = call.memory->region(static_cast<uint32_t>(RegionId::Stack));
  std::memset(stack.host + stack.lo, 0, kStackFrameBytes);
  call.tail_call = *slot;
  return 0;
}

}  // namespace

void add_standard_helpers(HelperRegistry& r) {
  r.add({static_cast<uint32_t>(HelperId::MapLookupElem), "bpf_map_lookup_elem", map_lookup_elem, nullptr});
  r.add({static_cast<uint32_t>(HelperId::MapUpdateElem), "bpf_map_update_elem", map_update_elem, nullptr});
  r.add({static_cast<uint32_t>(HelperId::MapDeleteElem), "bpf_map_delete_elem", map_delete_elem, nullptr});
  r.add({static_cast<uint32_t>(HelperId::KtimeGetNs), "bpf_ktime_get_ns", ktime_get_ns, nullptr});
  r.add({static_cast<uint32_t>(HelperId::TracePrintk), "bpf_trace_printk", trace_printk, nullptr});
  r.add({static_cast<uint32_t>(HelperId::GetPrandomU32), "bpf_get_prandom_u32", get_prandom_u32, nullptr});
  r.add({static_cast<uint32_t>(HelperId::TailCall), "bpf_tail_call", tail_call, nullptr});
}

const HelperRegistry& standard_helpers() {
  static const HelperRegistry registry = [] {
    HelperRegistry r;
    add_standard_helpers(r);
    return r;
  }();
  return registry;
}

}  // namespace bpfdiff::vm
