#pragma once
// Which corpus program a coverage-guided kernel campaign mutates next, and
// how many of its programs are mutants at all.
//
// A corpus of "every program that reached a new edge", drawn from uniformly,
// lost to no corpus at all: the programs that reach the most new code early
// are the ones the verifier walks longest (loops it unrolls state by state),
// so the mutator spent its time on a few slow programs and their slow
// mutants. Here each entry is weighed by
//   what it found:  log2(1 + edges it added), times log2(2 + programs run
//                   before it) -- an edge first reached after N programs is
//                   one the stream of programs rarely reaches, and its
//                   neighbourhood is where the next rare edge is;
//   what its mutants found: (1 + edges they added) / (1 + mutants / 4), so an
//                   entry whose mutants keep finding edges stays in favour and
//                   one mutated often for nothing fades;
//   what it costs:  the typical program's time over the mean time of the
//                   entry and its mutants so far (clamped to [1/8, 4]): a slow
//                   entry has to find eight times as much to be mutated as
//                   often as a typical one, and so has a quick entry whose
//                   mutants are slow (a loop one mutation away from one the
//                   verifier walks for seconds under TCG: in a 10-minute
//                   guided campaign, 18 such programs took 417 of its 599 s).
// A program slower than `slow_factor` times the typical program (the median
// of the recent ones) does not join the corpus even when it reached a new
// edge: its edges count, its mutants would be as slow.
//
// The share of mutants follows what each source has been finding per second
// lately (edges per second of kernel time, decayed per program of that
// source), clamped so that fresh generated programs never drop below
// 1 - max_mutant_share: early on fresh programs find edges by the hundred,
// later the generators saturate and the mutants are what still finds some.
//
// Deterministic: the same record() calls give the same weights, shares and
// picks; times are inputs, never read here.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz/byte_source.hpp"
#include "fuzz/generator.hpp"

namespace bpfdiff::fuzz {

struct CorpusSchedulerOptions {
  std::size_t capacity = 512;  // when full, the lowest-weight entry gives way to a new one
  double slow_factor = 8.0;    // not admitted: slower than this many typical programs
  double min_mutant_share = 0.1;
  double max_mutant_share = 0.7;
  double memory = 0.995;  // per program of a source: how fast its finding rate forgets
};

class CorpusScheduler {
 public:
  using EntryId = uint64_t;

  explicit CorpusScheduler(CorpusSchedulerOptions options = {});

  // One program's result: `parent` is the entry it is a mutant of (nullopt:
  // freshly generated), `new_edges` the edges it added to the campaign,
  // `cost_seconds` the time all engines spent on it. Returns its entry when
  // it joined the corpus (it added an edge and is not too slow).
  std::optional<EntryId> record(const GeneratedCase& c, std::optional<EntryId> parent, std::size_t new_edges,
                                double cost_seconds);

  // The share of the next programs that should be mutants (0 while the corpus is empty).
  double mutant_share() const;
  // The entry to mutate next, drawn by weight; nullopt while the corpus is empty.
  std::optional<EntryId> pick(ByteSource& src) const;
  // The program of entry `id`; nullptr when it has given way to another.
  const GeneratedCase* program(EntryId id) const;
  // Its current weight (0 for an unknown id), for tests and reports.
  double weight(EntryId id) const;

  std::size_t size() const { return entries_.size(); }
  // The median time of the recent programs (0 before any).
  double typical_cost() const;
  uint64_t programs() const { return programs_; }
  uint64_t too_slow() const { return too_slow_; }

 private:
  struct Entry {
    EntryId id = 0;
    GeneratedCase c;
    std::size_t edges = 0;     // edges it added when it ran
    uint64_t found_after = 0;  // programs recorded before it
    double cost = 0;
    uint64_t mutants = 0;       // its mutants recorded so far
    uint64_t mutant_edges = 0;  // edges they added
    double mutant_seconds = 0;  // the time they took
  };
  // Edges per second of one source (fresh or mutants), decayed.
  struct Rate {
    double edges = 1;  // a prior of one edge per second, so neither source starts at 0
    double seconds = 1;
    void add(std::size_t e, double s, double memory);
    double per_second() const { return edges / seconds; }
  };

  double weight_of(const Entry& e, double typical) const;
  Entry* find(EntryId id);
  const Entry* find(EntryId id) const;

  CorpusSchedulerOptions options_;
  std::vector<Entry> entries_;
  EntryId next_id_ = 1;
  uint64_t programs_ = 0;
  uint64_t too_slow_ = 0;
  Rate fresh_;
  Rate mutants_;
  std::vector<double> recent_costs_;  // a ring of the last kRecentCosts programs' times
  std::size_t recent_next_ = 0;
};

}  // namespace bpfdiff::fuzz
