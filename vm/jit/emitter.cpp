#include "vm/jit/emitter.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

namespace bpfdiff::jit {
namespace {

// Rounds of relaxation before giving up on short jumps altogether (all near
// always fits). Each round grows at least one jump; real programs settle in
// a handful.
constexpr int kMaxRelaxRounds = 64;

}  // namespace

Emitter::Emitter(Storage& storage) : a(std::move(storage.code)), s_(storage) {
  s_.offsets.clear();
  s_.branches.clear();
}

void Emitter::branch(Branch::Kind kind, x86::Cond cc, Label l) {
  if (!a.ok()) return;
  const auto site = static_cast<uint32_t>(a.size());
  switch (kind) {
    case Branch::Kind::Jcc:
      a.jcc(cc, x86::JumpSize::Near, 0);
      break;
    case Branch::Kind::Jmp:
      a.jmp(x86::JumpSize::Near, 0);
      break;
    case Branch::Kind::Call:
      a.call(0);
      break;
  }
  s_.branches.push_back({site, l, kind, cc});
}

Result<std::vector<uint8_t>> Emitter::finish(std::vector<uint8_t> into) && {
  if (!a.ok()) return make_error(a.error());
  const std::vector<uint8_t>& near_code = a.code();
  const std::vector<int64_t>& offsets = s_.offsets;
  const std::vector<Branch>& branches = s_.branches;
  const std::size_t nb = branches.size();
  auto near_length = [](Branch::Kind k) -> int64_t {
    return static_cast<int64_t>(k == Branch::Kind::Jcc ? x86::jcc_length(x86::JumpSize::Near)
                                                       : x86::jmp_length(x86::JumpSize::Near));
  };
  auto short_length = [](Branch::Kind k) -> int64_t {
    return k == Branch::Kind::Call ? static_cast<int64_t>(x86::kCallRel32Length)
                                   : static_cast<int64_t>(x86::jmp_length(x86::JumpSize::Short));
  };
  static_assert(x86::jmp_length(x86::JumpSize::Short) == x86::jcc_length(x86::JumpSize::Short));

  // rank[l]: how many branches lie before label l (their shrinking moves it).
  std::vector<uint32_t>& sites = s_.sites;
  sites.resize(nb);
  for (std::size_t i = 0; i < nb; ++i)
    sites[i] = branches[i].site;
  std::vector<uint32_t>& rank = s_.rank;
  rank.assign(offsets.size(), 0);
  for (std::size_t l = 0; l < offsets.size(); ++l) {
    if (offsets[l] < 0) continue;
    rank[l] = static_cast<uint32_t>(std::lower_bound(sites.begin(), sites.end(), offsets[l]) - sites.begin());
  }
  for (const Branch& b : branches) {
    if (b.target >= offsets.size() || offsets[b.target] < 0) {
      return make_error("jump to label " + std::to_string(b.target) + ", which is never bound");
    }
  }

  // saved[i]: bytes that the short branches before branch i save.
  std::vector<uint8_t>& is_short = s_.is_short;
  is_short.resize(nb);
  for (std::size_t i = 0; i < nb; ++i)
    is_short[i] = branches[i].kind != Branch::Kind::Call;
  std::vector<int64_t>& saved = s_.saved;
  saved.assign(nb + 1, 0);
  auto account = [&]() {
    for (std::size_t i = 0; i < nb; ++i) {
      const Branch::Kind k = branches[i].kind;
      saved[i + 1] = saved[i] + (is_short[i] ? near_length(k) - short_length(k) : 0);
    }
  };
  auto target_of = [&](const Branch& b) { return offsets[b.target] - saved[rank[b.target]]; };
  bool settled = false;
  for (int round = 0; round < kMaxRelaxRounds && !settled; ++round) {
    account();
    settled = true;
    for (std::size_t i = 0; i < nb; ++i) {
      if (!is_short[i]) continue;
      const Branch& b = branches[i];
      const int64_t end = static_cast<int64_t>(b.site) - saved[i] + short_length(b.kind);
      if (!x86::fits_rel8(target_of(b) - end)) {
        is_short[i] = 0;
        settled = false;
      }
    }
  }
  if (!settled) std::fill(is_short.begin(), is_short.end(), uint8_t{0});
  account();

  std::vector<uint8_t> out = std::move(into);
  out.resize(near_code.size() - static_cast<std::size_t>(saved[nb]));
  x86::Assembler encoded(std::move(s_.encoded));  // the final form of every branch, one after another
  encoded.reserve(nb * x86::jcc_length(x86::JumpSize::Near));
  auto copy = [&](std::size_t begin, std::size_t end, std::size_t to) {
    if (end > begin) std::memcpy(out.data() + to, near_code.data() + begin, end - begin);
  };
  std::size_t from = 0;  // in near_code
  std::size_t to = 0;    // in out
  for (std::size_t i = 0; i < nb; ++i) {
    const Branch& b = branches[i];
    copy(from, b.site, to);
    to += b.site - from;
    const int64_t length = is_short[i] ? short_length(b.kind) : near_length(b.kind);
    const auto disp = static_cast<int32_t>(target_of(b) - (static_cast<int64_t>(to) + length));
    const x86::JumpSize size = is_short[i] ? x86::JumpSize::Short : x86::JumpSize::Near;
    const std::size_t start = encoded.size();
    switch (b.kind) {
      case Branch::Kind::Jcc:
        encoded.jcc(b.cc, size, disp);
        break;
      case Branch::Kind::Jmp:
        encoded.jmp(size, disp);
        break;
      case Branch::Kind::Call:
        encoded.call(disp);
        break;
    }
    if (!encoded.ok()) return make_error(encoded.error());
    std::memcpy(out.data() + to, encoded.code().data() + start, static_cast<std::size_t>(length));
    to += static_cast<std::size_t>(length);
    from = b.site + static_cast<std::size_t>(near_length(b.kind));
  }
  copy(from, near_code.size(), to);
  s_.labels.resize(offsets.size());
  for (std::size_t l = 0; l < offsets.size(); ++l)
    s_.labels[l] = offsets[l] < 0 ? -1 : offsets[l] - saved[rank[l]];
  s_.encoded = std::move(encoded).release();
  s_.code = std::move(a).release();
  return out;
}

}  // namespace bpfdiff::jit
