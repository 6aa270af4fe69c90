#include "fuzz/kernel_campaign/kernel_time.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace bpfdiff::cli {
namespace {

using json = nlohmann::ordered_json;

std::size_t bucket_of(double seconds) {
  std::size_t b = 0;
  while (b < kKernelTimeBuckets.size() && seconds >= kKernelTimeBuckets[b])
    ++b;
  return b;
}

std::string verdict_key(const oracle::KernelComparison& c) {
  const bool rejected =
      c.kind == oracle::KernelAgreement::KernelRejected || c.kind == oracle::KernelAgreement::BothRejected;
  return rejected ? "rejected: " + c.reason : std::string(oracle::to_string(c.kind));
}

void add_phases(oracle::kernel::ExecutorPhases& into, const oracle::kernel::ExecutorPhases& from) {
  into.plain_load_ns += from.plain_load_ns;
  into.plain_run_ns += from.plain_run_ns;
  into.full_load_ns += from.full_load_ns;
  into.full_run_ns += from.full_run_ns;
  into.log_ns += from.log_ns;
  into.close_ns += from.close_ns;
  into.maps_ns += from.maps_ns;
  into.prepare_ns += from.prepare_ns;
}

double seconds_of(uint64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

void merge(KernelTimeCell& into, const KernelTimeCell& from) {
  into.programs += from.programs;
  into.wall_seconds += from.wall_seconds;
  into.executor_seconds += from.executor_seconds;
  into.request_seconds += from.request_seconds;
  add_phases(into.phases, from.phases);
  for (std::size_t b = 0; b < into.bucket_programs.size(); ++b) {
    into.bucket_programs[b] += from.bucket_programs[b];
    into.bucket_seconds[b] += from.bucket_seconds[b];
  }
  for (const auto& [key, v] : from.by_verdict) {
    into.by_verdict[key].first += v.first;
    into.by_verdict[key].second += v.second;
  }
  into.abandoned_programs += from.abandoned_programs;
  into.abandoned_seconds += from.abandoned_seconds;
}

// The verdicts that cost most wall time, most first.
std::vector<std::pair<std::string, std::pair<uint64_t, double>>> costliest(const KernelTimeCell& cell,
                                                                           std::size_t top) {
  std::vector<std::pair<std::string, std::pair<uint64_t, double>>> sorted(cell.by_verdict.begin(),
                                                                          cell.by_verdict.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.second != b.second.second ? a.second.second > b.second.second : a.first < b.first;
  });
  if (sorted.size() > top) sorted.resize(top);
  return sorted;
}

double percent(double part, double whole) {
  return whole > 0 ? 100.0 * part / whole : 0.0;
}

json cell_json(const KernelTimeCell& cell) {
  json histogram = json::array();
  for (std::size_t b = 0; b < cell.bucket_programs.size(); ++b) {
    histogram.push_back({{"bucket", kernel_time_bucket_label(b)},
                         {"programs", cell.bucket_programs[b]},
                         {"seconds", cell.bucket_seconds[b]}});
  }
  json verdicts = json::array();
  for (const auto& [key, v] : costliest(cell, 5))
    verdicts.push_back({{"verdict", key}, {"programs", v.first}, {"seconds", v.second}});
  return {{"programs", cell.programs},
          {"wall_seconds", cell.wall_seconds},
          {"executor_seconds", cell.executor_seconds},
          {"request_seconds", cell.request_seconds},
          {"executor_phases_seconds",
           {{"plain_load", seconds_of(cell.phases.plain_load_ns)},
            {"plain_run", seconds_of(cell.phases.plain_run_ns)},
            {"full_state_load", seconds_of(cell.phases.full_load_ns)},
            {"full_state_run", seconds_of(cell.phases.full_run_ns)},
            {"log_reload", seconds_of(cell.phases.log_ns)},
            {"close", seconds_of(cell.phases.close_ns)},
            {"maps", seconds_of(cell.phases.maps_ns)},
            {"prepare", seconds_of(cell.phases.prepare_ns)},
            {"other", std::max(0.0, cell.executor_seconds - seconds_of(cell.phases.sum()))}}},
          {"histogram", std::move(histogram)},
          {"costliest_verdicts", std::move(verdicts)},
          {"abandoned", {{"programs", cell.abandoned_programs}, {"seconds", cell.abandoned_seconds}}}};
}

}  // namespace

std::string kernel_time_bucket_label(std::size_t bucket) {
  static constexpr std::array<const char*, kKernelTimeBuckets.size() + 1> kLabels = {
      "<1ms", "1-10ms", "10-100ms", "0.1-1s", "1-10s", ">=10s"};
  return bucket < kLabels.size() ? kLabels[bucket] : "?";
}

KernelTimeCell& KernelTimeTally::add_time(const std::string& engine, const std::string& source,
                                          double wall_seconds, const oracle::Outcome& kernel) {
  KernelTimeCell& cell = cells_[engine][source];
  ++cell.programs;
  cell.wall_seconds += wall_seconds;
  if (kernel.kernel) {
    cell.executor_seconds += static_cast<double>(kernel.kernel->duration_ns) / 1e9;
    cell.request_seconds += static_cast<double>(kernel.kernel->request_ns) / 1e9;
    add_phases(cell.phases, kernel.kernel->phases);
  }
  const std::size_t b = bucket_of(wall_seconds);
  ++cell.bucket_programs[b];
  cell.bucket_seconds[b] += wall_seconds;
  return cell;
}

void KernelTimeTally::add(const std::string& engine, const std::string& source, double wall_seconds,
                          const oracle::Outcome& kernel, const oracle::KernelComparison& c) {
  auto& v = add_time(engine, source, wall_seconds, kernel).by_verdict[verdict_key(c)];
  ++v.first;
  v.second += wall_seconds;
}

void KernelTimeTally::add_abandoned(const std::string& engine, const std::string& source, double wall_seconds,
                                    const oracle::Outcome& kernel) {
  KernelTimeCell& cell = add_time(engine, source, wall_seconds, kernel);
  ++cell.abandoned_programs;
  cell.abandoned_seconds += wall_seconds;
}

KernelTimeCell KernelTimeTally::engine_total(const std::string& engine) const {
  KernelTimeCell total;
  const auto it = cells_.find(engine);
  if (it == cells_.end()) return total;
  for (const auto& [source, cell] : it->second)
    merge(total, cell);
  return total;
}

json KernelTimeTally::to_json() const {
  json out = json::object();
  for (const auto& [engine, sources] : cells_) {
    json e = cell_json(engine_total(engine));
    json per_source = json::object();
    for (const auto& [source, cell] : sources)
      per_source[source] = cell_json(cell);
    e["sources"] = std::move(per_source);
    out[engine] = std::move(e);
  }
  return out;
}

std::string KernelTimeTally::summary() const {
  std::string out;
  char line[320];
  for (const auto& [engine, sources] : cells_) {
    const KernelTimeCell total = engine_total(engine);
    std::snprintf(line, sizeof line,
                  "  time on %s: %.1f s for %llu programs (%.1f ms each), %.1f s of it in the executor\n",
                  engine.c_str(), total.wall_seconds, static_cast<unsigned long long>(total.programs),
                  total.programs > 0 ? 1e3 * total.wall_seconds / static_cast<double>(total.programs) : 0.0,
                  total.executor_seconds);
    out += line;
    if (total.request_seconds > 0) {
      // The request around the executor, and the engine's own work around
      // the request, so what pipelining or batching could win is in view.
      std::snprintf(line, sizeof line,
                    "    asking: %.1f s (%.1f%%) between the request and the executor (serialisation, "
                    "channel, agent, host scheduling); %.1f s (%.1f%%) on the host around the request\n",
                    total.request_seconds - total.executor_seconds,
                    percent(total.request_seconds - total.executor_seconds, total.wall_seconds),
                    total.wall_seconds - total.request_seconds,
                    percent(total.wall_seconds - total.request_seconds, total.wall_seconds));
      out += line;
    }
    if (total.phases.sum() > 0) {
      // The executor's own split: what batching cannot win, and where
      // the rest of a guest's time goes.
      const auto share = [&](uint64_t ns) { return percent(seconds_of(ns), total.executor_seconds); };
      std::snprintf(
          line, sizeof line,
          "    executor: plain load %.1f%%, plain run %.1f%%, full-state load %.1f%%, full-state run "
          "%.1f%%, log reloads %.1f%%, closes %.1f%%, maps %.1f%%, preparing %.1f%%, other %.1f%%\n",
          share(total.phases.plain_load_ns), share(total.phases.plain_run_ns),
          share(total.phases.full_load_ns), share(total.phases.full_run_ns), share(total.phases.log_ns),
          share(total.phases.close_ns), share(total.phases.maps_ns), share(total.phases.prepare_ns),
          percent(std::max(0.0, total.executor_seconds - seconds_of(total.phases.sum())),
                  total.executor_seconds));
      out += line;
    }
    for (const auto& [source, cell] : sources) {
      std::snprintf(line, sizeof line, "    %-24s %6llu programs %8.1f s (%4.1f%%)\n", source.c_str(),
                    static_cast<unsigned long long>(cell.programs), cell.wall_seconds,
                    percent(cell.wall_seconds, total.wall_seconds));
      out += line;
    }
    if (total.abandoned_programs > 0) {
      std::snprintf(line, sizeof line, "    %-24s %6llu programs %8.1f s (%4.1f%%)\n",
                    "abandoned (not judged)", static_cast<unsigned long long>(total.abandoned_programs),
                    total.abandoned_seconds, percent(total.abandoned_seconds, total.wall_seconds));
      out += line;
    }
    out += "    per program:";
    for (std::size_t b = 0; b < total.bucket_programs.size(); ++b) {
      if (total.bucket_programs[b] == 0) continue;
      std::snprintf(line, sizeof line, " %s %llu (%.0f%% of the time)", kernel_time_bucket_label(b).c_str(),
                    static_cast<unsigned long long>(total.bucket_programs[b]),
                    percent(total.bucket_seconds[b], total.wall_seconds));
      out += line;
    }
    out += "\n";
    for (const auto& [key, v] : costliest(total, 3)) {
      std::snprintf(line, sizeof line, "    %5.1f%% of the time: %llu programs, %s\n",
                    percent(v.second, total.wall_seconds), static_cast<unsigned long long>(v.first),
                    key.substr(0, 160).c_str());
      out += line;
    }
  }
  return out;
}

}  // namespace bpfdiff::cli
