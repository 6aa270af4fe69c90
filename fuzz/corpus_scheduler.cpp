#include "fuzz/corpus_scheduler.hpp"

#include <algorithm>
#include <cmath>

namespace bpfdiff::fuzz {

namespace {

// Enough programs for a median that one slow loop does not move.
constexpr std::size_t kRecentCosts = 256;
// Below this many timed programs there is no typical cost to call a program slow against.
constexpr std::size_t kCostsBeforeCap = 16;

}  // namespace

void CorpusScheduler::Rate::add(std::size_t e, double s, double memory) {
  edges = edges * memory + static_cast<double>(e);
  seconds = seconds * memory + s;
}

CorpusScheduler::CorpusScheduler(CorpusSchedulerOptions options) : options_(options) {
  options_.capacity = std::max<std::size_t>(options_.capacity, 1);
  options_.min_mutant_share = std::clamp(options_.min_mutant_share, 0.0, 1.0);
  options_.max_mutant_share = std::clamp(options_.max_mutant_share, options_.min_mutant_share, 1.0);
}

double CorpusScheduler::typical_cost() const {
  if (recent_costs_.empty()) return 0;
  std::vector<double> sorted = recent_costs_;
  auto mid = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
  std::nth_element(sorted.begin(), mid, sorted.end());
  return *mid;
}

double CorpusScheduler::weight_of(const Entry& e, double typical) const {
  const double found =
      std::log2(1.0 + static_cast<double>(e.edges)) * std::log2(2.0 + static_cast<double>(e.found_after));
  const double yield =
      (1.0 + static_cast<double>(e.mutant_edges)) / (1.0 + static_cast<double>(e.mutants) / 4.0);
  double cheapness = 1;
  const double mean_cost = (e.cost + e.mutant_seconds) / (1.0 + static_cast<double>(e.mutants));
  if (typical > 0) cheapness = std::clamp(typical / std::max(mean_cost, 1e-9), 1.0 / 8.0, 4.0);
  return found * yield * cheapness;
}

CorpusScheduler::Entry* CorpusScheduler::find(EntryId id) {
  for (Entry& e : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

const CorpusScheduler::Entry* CorpusScheduler::find(EntryId id) const {
  for (const Entry& e : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

std::optional<CorpusScheduler::EntryId> CorpusScheduler::record(const GeneratedCase& c,
                                                                std::optional<EntryId> parent,
                                                                std::size_t new_edges, double cost_seconds) {
  cost_seconds = std::max(cost_seconds, 0.0);
  const double typical = typical_cost();
  const bool have_typical = recent_costs_.size() >= kCostsBeforeCap;
  const uint64_t before = programs_++;
  if (recent_costs_.size() < kRecentCosts) {
    recent_costs_.push_back(cost_seconds);
  } else {
    recent_costs_[recent_next_] = cost_seconds;
    recent_next_ = (recent_next_ + 1) % kRecentCosts;
  }
  if (parent) {
    mutants_.add(new_edges, cost_seconds, options_.memory);
    // The parent may have given way to a newer entry while its mutant ran.
    if (Entry* p = find(*parent)) {
      ++p->mutants;
      p->mutant_edges += new_edges;
      p->mutant_seconds += cost_seconds;
    }
  } else {
    fresh_.add(new_edges, cost_seconds, options_.memory);
  }
  if (new_edges == 0) return std::nullopt;
  if (have_typical && cost_seconds > options_.slow_factor * typical) {
    ++too_slow_;
    return std::nullopt;
  }
  Entry e;
  e.id = next_id_++;
  e.c = c;
  e.edges = new_edges;
  e.found_after = before;
  e.cost = cost_seconds;
  const EntryId id = e.id;
  if (entries_.size() < options_.capacity) {
    entries_.push_back(std::move(e));
    return id;
  }
  // Full: the entry worth least now gives way (the newcomer has not been
  // mutated yet, so it is not compared).
  const double t = typical_cost();
  auto least = std::min_element(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) {
    return weight_of(a, t) < weight_of(b, t);
  });
  *least = std::move(e);
  return id;
}

double CorpusScheduler::mutant_share() const {
  if (entries_.empty()) return 0;
  const double m = mutants_.per_second();
  const double f = fresh_.per_second();
  const double share = m + f > 0 ? m / (m + f) : options_.min_mutant_share;
  return std::clamp(share, options_.min_mutant_share, options_.max_mutant_share);
}

std::optional<CorpusScheduler::EntryId> CorpusScheduler::pick(ByteSource& src) const {
  if (entries_.empty()) return std::nullopt;
  const double t = typical_cost();
  std::vector<double> cumulative;
  cumulative.reserve(entries_.size());
  double total = 0;
  for (const Entry& e : entries_) {
    total += weight_of(e, t);
    cumulative.push_back(total);
  }
  const double u = static_cast<double>(src.u32()) / 4294967296.0 * total;
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
  const std::size_t n =
      it == cumulative.end() ? entries_.size() - 1 : static_cast<std::size_t>(it - cumulative.begin());
  return entries_[n].id;
}

const GeneratedCase* CorpusScheduler::program(EntryId id) const {
  const Entry* e = find(id);
  return e ? &e->c : nullptr;
}

double CorpusScheduler::weight(EntryId id) const {
  const Entry* e = find(id);
  return e ? weight_of(*e, typical_cost()) : 0.0;
}

}  // namespace bpfdiff::fuzz
