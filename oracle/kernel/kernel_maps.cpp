#include "oracle/kernel/kernel_maps.hpp"

#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace bpfdiff::oracle::kernel {
namespace {

// Maps kept for reuse across requests. The kernel campaign's generators
// draw from about 150 shapes (verifier-stress hash maps alone: 6 key sizes,
// 4 value sizes, 4 entry counts), so the pool holds that many and more:
// with 64 it evicted and created a map for most map programs, under TCG a
// tenth of a guest's time. Each pooled map is small (at most a page of
// values plus the kernel's map header).
constexpr std::size_t kMaxPooledMaps = 256;

std::string sys_error(const char* what, int err) {
  return std::string(what) + ": " + errno_name(err) + ": " + std::strerror(err);
}

// An array's values lie 8-byte aligned in the kernel (and in its mapping).
std::size_t array_stride(uint32_t value_size) {
  return (std::size_t{value_size} + 7) / 8 * 8;
}

std::vector<uint8_t> le32(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}

bool same_shape(const KernelMap& a, const KernelMap& b) {
  return a.type == b.type && a.key_size == b.key_size && a.value_size == b.value_size &&
         a.max_entries == b.max_entries && a.read_only == b.read_only;
}

// The initial value of array index i (zeros when none were given).
std::span<const uint8_t> initial_value(const KernelMap& m, uint32_t i, std::span<const uint8_t> zeros) {
  if (m.initial_values.empty()) return zeros.first(m.value_size);
  return std::span(m.initial_values).subspan(std::size_t{i} * m.value_size, m.value_size);
}

Result<void> check_initial_entries(const std::string& name, const KernelMap& m) {
  if (m.initial_entries.empty()) return {};
  if (m.type != kMapTypeHash) return make_error(name + "only a hash map starts with entries");
  if (m.initial_entries.size() > m.max_entries) {
    return make_error(name + std::to_string(m.initial_entries.size()) + " starting entries, more than its " +
                      std::to_string(m.max_entries));
  }
  std::set<std::string> keys;  // by their bytes (g++ 12 warns wrongly about std::less of byte vectors)
  for (const KernelMapEntry& e : m.initial_entries) {
    if (e.key.size() != m.key_size || e.value.size() != m.value_size) {
      return make_error(name + "a starting entry of a " + std::to_string(e.key.size()) + "-byte key and a " +
                        std::to_string(e.value.size()) + "-byte value");
    }
    // The kernel would take the second as an update: our VM refuses it.
    if (!keys.emplace(e.key.begin(), e.key.end()).second)
      return make_error(name + "a starting key given twice");
  }
  return {};
}

}  // namespace

uint32_t program_array_target(const KernelMap& m, uint32_t index) {
  const std::size_t at = std::size_t{index} * 4;
  if (m.type != kMapTypeProgArray || at + 4 > m.initial_values.size()) return 0;
  uint32_t v = 0;
  for (int b = 3; b >= 0; --b)
    v = (v << 8) | m.initial_values[at + static_cast<std::size_t>(b)];
  return v;
}

Result<void> check_request_maps(std::span<const KernelMap> maps) {
  if (maps.size() > kMaxRequestMaps) {
    return make_error("the program has " + std::to_string(maps.size()) + " maps; a request carries at most " +
                      std::to_string(kMaxRequestMaps));
  }
  for (std::size_t i = 0; i < maps.size(); ++i) {
    const KernelMap& m = maps[i];
    const std::string name = "map " + std::to_string(i) + ": ";
    if (m.type == kMapTypeProgArray) {
      if (m.key_size != 4 || m.value_size != 4 || m.read_only)
        return make_error(name + "a program array has 4-byte keys and values");
    } else if (m.type != kMapTypeArray && m.type != kMapTypeHash) {
      return make_error(name + "type " + std::to_string(m.type) + " is not carried to the kernel");
    }
    if (m.key_size == 0 || m.key_size > kMaxRequestMapKeySize || m.value_size == 0 ||
        m.value_size > kMaxRequestMapValueSize || m.max_entries == 0 ||
        m.max_entries > kMaxRequestMapEntries ||
        uint64_t{m.max_entries} * m.value_size > kMaxRequestMapBytes) {
      return make_error(name + "key size " + std::to_string(m.key_size) + ", value size " +
                        std::to_string(m.value_size) + ", " + std::to_string(m.max_entries) +
                        " entries: outside what a request carries");
    }
    if (m.type == kMapTypeArray && m.key_size != 4) return make_error(name + "an array's key size must be 4");
    if (m.type == kMapTypeHash && (m.read_only || !m.initial_values.empty()))
      return make_error(name + "a hash map is writable and starts with its entries, not values");
    if (auto entries = check_initial_entries(name, m); !entries) return entries;
    if (!m.initial_values.empty() && m.initial_values.size() != std::size_t{m.max_entries} * m.value_size)
      return make_error(name + "initial values of " + std::to_string(m.initial_values.size()) + " bytes");
  }
  return {};
}

KernelMapPool::Pooled::~Pooled() {
  if (data != nullptr) munmap(data, mapped);
}

KernelMapPool::~KernelMapPool() = default;

Result<std::unique_ptr<KernelMapPool::Pooled>> KernelMapPool::create(const KernelMap& m) const {
  auto p = std::make_unique<Pooled>();
  p->shape = m;
  p->shape.initial_values.clear();
  p->shape.initial_entries.clear();
  MapCreate c;
  c.map_type = m.type == kMapTypeHash        ? BPF_MAP_TYPE_HASH
               : m.type == kMapTypeProgArray ? BPF_MAP_TYPE_PROG_ARRAY
                                             : BPF_MAP_TYPE_ARRAY;
  c.key_size = m.key_size;
  c.value_size = m.value_size;
  c.max_entries = m.max_entries;
  // Writable arrays are mmappable so their contents go in and out with no
  // syscall; a frozen read-only map may not have a writable mapping.
  if (m.type == kMapTypeArray) c.map_flags = m.read_only ? BPF_F_RDONLY_PROG : BPF_F_MMAPABLE;
  c.name = m.read_only ? "bpfdiff_ro" : m.type == kMapTypeProgArray ? "bpfdiff_progs" : "bpfdiff_map";
  auto fd = map_create(c);
  if (!fd.ok()) return make_error(sys_error("bpf(BPF_MAP_CREATE)", fd.err));
  p->fd = std::move(fd.value);
  if (m.type == kMapTypeHash) p->known.emplace();
  if (m.type == kMapTypeArray && !m.read_only) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t bytes = array_stride(m.value_size) * m.max_entries;
    p->mapped = (bytes + page - 1) / page * page;
    void* data = mmap(nullptr, p->mapped, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd.get(), 0);
    if (data == MAP_FAILED) return make_error(sys_error("mmap of a BPF array", errno));
    p->data = static_cast<uint8_t*>(data);
  }
  return p;
}

void KernelMapPool::release() {
  for (Pooled* p : active_)
    p->in_use = false;
  active_.clear();
  read_only_.clear();
  defs_.clear();
  fds_.clear();
}

Result<void> KernelMapPool::acquire(std::span<const KernelMap> maps) {
  release();
  if (auto ok = check_request_maps(maps); !ok) return ok.error();
  defs_.assign(maps.begin(), maps.end());
  const std::vector<uint8_t> zeros(kMaxRequestMapValueSize, 0);
  for (const KernelMap& m : defs_) {
    if (m.type == kMapTypeProgArray) {
      // Never pooled: the programs put in it hold it (their used maps) and
      // it holds them; closing its last descriptor at the end of the
      // request empties it, which frees both.
      auto p = create(m);
      if (!p) return p.error();
      active_.push_back(p->get());
      read_only_.push_back(std::move(p).value());
      continue;
    }
    if (m.read_only) {
      auto p = create(m);
      if (!p) return p.error();
      for (uint32_t i = 0; i < m.max_entries; ++i) {
        const std::vector<uint8_t> key = le32(i);
        auto u = map_update((*p)->fd.get(), key.data(), initial_value(m, i, zeros).data(), BPF_ANY);
        if (!u.ok()) return make_error(sys_error("bpf(BPF_MAP_UPDATE_ELEM) of a read-only map", u.err));
      }
      if (auto f = map_freeze((*p)->fd.get()); !f.ok()) {
        return make_error(sys_error("bpf(BPF_MAP_FREEZE) (.rodata needs a kernel that freezes maps)", f.err));
      }
      active_.push_back(p->get());
      read_only_.push_back(std::move(p).value());
      continue;
    }
    Pooled* found = nullptr;
    for (auto& p : pool_) {
      if (!p->in_use && same_shape(p->shape, m)) {
        found = p.get();
        break;
      }
    }
    if (found == nullptr) {
      if (pool_.size() >= kMaxPooledMaps) {
        // Evict the oldest map no request holds.
        for (auto it = pool_.begin(); it != pool_.end(); ++it) {
          if (!(*it)->in_use) {
            pool_.erase(it);
            break;
          }
        }
      }
      auto p = create(m);
      if (!p) return p.error();
      found = p->get();
      pool_.push_back(std::move(p).value());
    }
    found->in_use = true;
    active_.push_back(found);
  }
  for (Pooled* p : active_)
    fds_.push_back(p->fd.get());
  return {};
}

Result<void> KernelMapPool::reset() {
  const std::vector<uint8_t> zeros(kMaxRequestMapValueSize, 0);
  for (std::size_t i = 0; i < active_.size(); ++i) {
    Pooled& p = *active_[i];
    const KernelMap& m = defs_[i];
    if (m.read_only) continue;                  // frozen with its contents, and the program cannot write it
    if (m.type == kMapTypeProgArray) continue;  // filled by fill_program_arrays; programs cannot write it
    if (m.type == kMapTypeArray) {
      const std::size_t stride = array_stride(m.value_size);
      for (uint32_t e = 0; e < m.max_entries; ++e)
        std::memcpy(p.data + e * stride, initial_value(m, e, zeros).data(), m.value_size);
      continue;
    }
    // A hash map: as it starts already (see the header), or delete whatever
    // the previous run left (from the first key each time, since deleting
    // invalidates the iteration).
    const bool unchanged = p.known && *p.known == m.initial_entries;
    p.known.reset();
    if (unchanged) continue;
    ++hash_refills_;
    std::vector<uint8_t> key(m.key_size);
    for (;;) {
      auto next = map_get_next_key(p.fd.get(), nullptr, key.data());
      if (next.err == ENOENT) break;
      if (!next.ok()) return make_error(sys_error("bpf(BPF_MAP_GET_NEXT_KEY)", next.err));
      if (auto d = map_delete(p.fd.get(), key.data()); !d.ok())
        return make_error(sys_error("bpf(BPF_MAP_DELETE_ELEM)", d.err));
    }
    // Then its starting entries, in order, as our VM inserts them.
    for (const KernelMapEntry& e : m.initial_entries) {
      if (auto u = map_update(p.fd.get(), e.key.data(), e.value.data(), BPF_NOEXIST); !u.ok())
        return make_error(sys_error("bpf(BPF_MAP_UPDATE_ELEM) of a hash map's starting entry", u.err));
    }
  }
  return {};
}

Result<std::vector<KernelMapContents>> KernelMapPool::read() {
  std::vector<KernelMapContents> out(active_.size());
  for (std::size_t i = 0; i < active_.size(); ++i) {
    Pooled& p = *active_[i];
    const KernelMap& m = defs_[i];
    auto& entries = out[i].entries;
    if (m.type == kMapTypeProgArray) {
      // As our VM shows one: index -> target slot, for the indexes that
      // hold a program (a program cannot change a program array).
      for (uint32_t k = 0; k < m.max_entries; ++k) {
        if (const uint32_t target = program_array_target(m, k); target != 0)
          entries.push_back({le32(k), le32(target - 1)});
      }
      continue;
    }
    if (m.type == kMapTypeArray) {
      entries.reserve(m.max_entries);
      for (uint32_t e = 0; e < m.max_entries; ++e) {
        KernelMapEntry entry{le32(e), std::vector<uint8_t>(m.value_size)};
        if (p.data != nullptr) {
          std::memcpy(entry.value.data(), p.data + e * array_stride(m.value_size), m.value_size);
        } else if (auto l = map_lookup(p.fd.get(), entry.key.data(), entry.value.data()); !l.ok()) {
          return make_error(sys_error("bpf(BPF_MAP_LOOKUP_ELEM)", l.err));
        }
        entries.push_back(std::move(entry));
      }
      continue;
    }
    p.known.reset();
    std::vector<uint8_t> key(m.key_size);
    bool first = true;
    // A hash map holds at most max_entries keys; the bound guards against
    // an iteration that restarts (the kernel restarts from the first key
    // when the previous one vanished, which nothing here causes).
    for (uint32_t n = 0; n <= m.max_entries; ++n) {
      std::vector<uint8_t> next(m.key_size);
      auto r = map_get_next_key(p.fd.get(), first ? nullptr : key.data(), next.data());
      if (r.err == ENOENT) break;
      if (!r.ok()) return make_error(sys_error("bpf(BPF_MAP_GET_NEXT_KEY)", r.err));
      KernelMapEntry entry{next, std::vector<uint8_t>(m.value_size)};
      if (auto l = map_lookup(p.fd.get(), next.data(), entry.value.data()); !l.ok())
        return make_error(sys_error("bpf(BPF_MAP_LOOKUP_ELEM)", l.err));
      entries.push_back(std::move(entry));
      key = std::move(next);
      first = false;
    }
    p.known = entries;
  }
  return out;
}

bool KernelMapPool::has_program_array() const {
  return std::any_of(defs_.begin(), defs_.end(),
                     [](const KernelMap& m) { return m.type == kMapTypeProgArray; });
}

Result<void> KernelMapPool::fill_program_arrays(std::span<const ProgramAt> programs) {
  for (std::size_t i = 0; i < active_.size(); ++i) {
    const KernelMap& m = defs_[i];
    if (m.type != kMapTypeProgArray) continue;
    for (uint32_t k = 0; k < m.max_entries; ++k) {
      const uint32_t target = program_array_target(m, k);
      if (target == 0) continue;
      const auto at = std::find_if(programs.begin(), programs.end(),
                                   [&](const ProgramAt& p) { return p.slot == target - 1; });
      if (at == programs.end()) {
        return make_error("program array " + std::to_string(i) + " index " + std::to_string(k) +
                          ": no kernel program starts at slot " + std::to_string(target - 1));
      }
      const std::vector<uint8_t> key = le32(k);
      if (auto u = map_update(active_[i]->fd.get(), key.data(), &at->prog_fd, BPF_ANY); !u.ok())
        return make_error(sys_error("bpf(BPF_MAP_UPDATE_ELEM) of a program array", u.err));
    }
  }
  return {};
}

}  // namespace bpfdiff::oracle::kernel
