#include "oracle/compare.hpp"

#include <algorithm>
#include <cstdio>

#include "oracle/kernel_compare.hpp"

namespace bpfdiff::oracle {
namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

void compare_bytes(const char* name, const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                   std::vector<Difference>& out) {
  if (a.size() != b.size()) {
    out.push_back({std::string(name) + ".size", std::to_string(a.size()), std::to_string(b.size())});
    return;
  }
  const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin());
  if (ia == a.end()) return;
  const auto at = static_cast<std::size_t>(ia - a.begin());
  out.push_back({std::string(name) + "[" + std::to_string(at) + "]", hex(*ia), hex(*ib)});
}

std::string render(const HelperCallRecord& r) {
  std::string s = "pc " + std::to_string(r.pc) + " helper " + std::to_string(r.helper) + "(";
  for (std::size_t i = 0; i < r.args.size(); ++i)
    s += (i ? ", " : "") + hex(r.args[i]);
  return s + ") = " + hex(r.result);
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

void compare_trace(const std::vector<std::string>& a, const std::vector<std::string>& b,
                   std::vector<Difference>& out) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) {
      out.push_back({"trace[" + std::to_string(i) + "]", quoted(a[i]), quoted(b[i])});
      return;
    }
  }
  if (a.size() != b.size()) out.push_back({"trace.size", std::to_string(a.size()), std::to_string(b.size())});
}

}  // namespace

std::vector<Difference> compare(const Outcome& l, const Outcome& r, const CompareRules& rules) {
  // A kernel on either side has its own rules (what it can export, what a
  // rejection means): kernel_compare.hpp.
  if (l.kernel || r.kernel) return kernel_differences(l, r);
  std::vector<Difference> out;
  if (l.loaded != r.loaded) {
    out.push_back({"load", l.loaded ? "accepted" : "rejected: " + l.load_error,
                   r.loaded ? "accepted" : "rejected: " + r.load_error});
    return out;
  }
  if (!l.loaded) return out;  // both rejected: agreement, whatever the wording

  if (l.error.kind != r.error.kind) {
    out.push_back({"error.kind", vm::to_string(l.error.kind), vm::to_string(r.error.kind)});
  } else if (rules.error_details && l.error.kind != vm::ErrorKind::None) {
    if (l.error.pc != r.error.pc)
      out.push_back({"error.pc", std::to_string(l.error.pc), std::to_string(r.error.pc)});
    if (l.error.address != r.error.address)
      out.push_back({"error.address", hex(l.error.address), hex(r.error.address)});
    if (l.error.size != r.error.size) {
      out.push_back({"error.size", std::to_string(l.error.size), std::to_string(r.error.size)});
    }
  }

  const std::size_t nregs = rules.registers ? l.regs.size() : 1;
  for (std::size_t i = 0; i < nregs; ++i) {
    if (l.regs[i] != r.regs[i]) out.push_back({"r" + std::to_string(i), hex(l.regs[i]), hex(r.regs[i])});
  }
  if (rules.instructions && l.instructions != r.instructions) {
    out.push_back({"instructions", std::to_string(l.instructions), std::to_string(r.instructions)});
  }
  if (rules.memory) {
    compare_bytes("memory", l.memory, r.memory, out);
    compare_bytes("metadata", l.metadata, r.metadata, out);
  }
  if (rules.stack) compare_bytes("stack", l.stack, r.stack, out);
  if (rules.helper_calls) {
    const std::size_t n = std::min(l.helper_calls.size(), r.helper_calls.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (!(l.helper_calls[i] == r.helper_calls[i])) {
        out.push_back({"helper_calls[" + std::to_string(i) + "]", render(l.helper_calls[i]),
                       render(r.helper_calls[i])});
        break;
      }
    }
    if (l.helper_calls.size() != r.helper_calls.size()) {
      out.push_back({"helper_calls.size", std::to_string(l.helper_calls.size()),
                     std::to_string(r.helper_calls.size())});
    }
  }
  if (rules.maps && l.maps_observed && r.maps_observed) compare_map_snapshots("maps", l.maps, r.maps, out);
  if (rules.trace && l.trace_observed && r.trace_observed) compare_trace(l.trace, r.trace, out);
  return out;
}

// Maps compare by position (both outcomes come from the same program), then
// entry by entry; the first difference per map is reported.
void compare_map_snapshots(const std::string& prefix, const std::vector<vm::MapSnapshot>& a,
                           const std::vector<vm::MapSnapshot>& b, std::vector<Difference>& out) {
  if (a.size() != b.size()) {
    out.push_back({prefix + ".size", std::to_string(a.size()), std::to_string(b.size())});
    return;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string name = prefix + "[" + std::to_string(i) + "]";
    const auto& ea = a[i].entries;
    const auto& eb = b[i].entries;
    const std::size_t n = std::min(ea.size(), eb.size());
    bool differs = false;
    for (std::size_t k = 0; k < n && !differs; ++k) {
      const std::string entry = name + ".entries[" + std::to_string(k) + "]";
      const std::size_t before = out.size();
      compare_bytes((entry + ".key").c_str(), ea[k].key, eb[k].key, out);
      compare_bytes((entry + ".value").c_str(), ea[k].value, eb[k].value, out);
      differs = out.size() != before;
    }
    if (!differs && ea.size() != eb.size())
      out.push_back({name + ".entries.size", std::to_string(ea.size()), std::to_string(eb.size())});
  }
}

std::string to_string(const Difference& d) {
  return d.field + ": " + d.left + " vs " + d.right;
}

}  // namespace bpfdiff::oracle
