#include "vm/runtime/helpers.hpp"

#include <algorithm>

namespace bpfdiff::vm {

void HelperRegistry::add(HelperSpec spec) {
  const uint32_t id = spec.id;
  by_id_[id] = std::move(spec);
}

const HelperSpec* HelperRegistry::find(uint32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

const HelperSpec* HelperRegistry::find(std::string_view name) const {
  for (const auto& [id, spec] : by_id_) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::vector<uint32_t> HelperRegistry::ids() const {
  std::vector<uint32_t> out;
  for (const auto& [id, spec] : by_id_)
    out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace bpfdiff::vm
