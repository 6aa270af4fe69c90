#include "fuzz/kernel_campaign/kernel_campaign.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "fuzz/differential.hpp"
#include "fuzz/findings/atomic_file.hpp"
#include "fuzz/gate/gate.hpp"
#include "fuzz/generator.hpp"
#include "fuzz/kernel_campaign/kernel_campaign_report.hpp"
#include "fuzz/kernel_campaign/kernel_finding.hpp"
#include "fuzz/kernel_campaign/kernel_minimize.hpp"
#include "fuzz/kernel_friendly.hpp"
#include "fuzz/kernel_mix.hpp"
#include "fuzz/signature.hpp"
#include "fuzz/stop_signals.hpp"
#include "oracle/compare.hpp"
#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel_compare.hpp"
#include "oracle/kernel_engine.hpp"
#include "oracle/kernel_host_engine.hpp"
#include "oracle/kernel_qemu_engine.hpp"
#include "oracle/known_kernel_bugs.hpp"
#include "oracle/run/report.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop.store(true);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The seed of program `iteration` of a campaign with `seed`: the same pair
// always gives the same program (mutants aside, which also depend on what
// the kernel accepted before), which is what makes the campaign resumable
// and each finding reproducible from finding.json alone.
uint64_t case_seed(uint64_t seed, uint64_t iteration) {
  // splitmix64 of the pair, so neighbouring iterations get unrelated streams.
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + iteration + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct NextCase {
  uint64_t iteration = 0;
  fuzz::KernelCaseMix::Drawn drawn;
};

bool is_kernel(const std::string& name) {
  const auto names = oracle::kernel_engine_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

struct NamedEngine {
  std::string name;
  std::unique_ptr<oracle::Engine> engine;
  bool kernel = false;
  oracle::KernelEngine* traced = nullptr;  // a kernel engine asked for coverage
};

// Minimization runs many variants of a program; the agent reports each edge
// once, so coverage it sent in their responses would be lost to the
// campaign's union. Tracing pauses while a worker minimizes.
class CoveragePause {
 public:
  explicit CoveragePause(std::vector<NamedEngine>& engines) : engines_(engines) {
    for (NamedEngine& e : engines_) {
      if (e.traced) e.traced->set_want_coverage(false);
    }
  }
  ~CoveragePause() {
    for (NamedEngine& e : engines_) {
      if (e.traced) e.traced->set_want_coverage(true);
    }
  }
  CoveragePause(const CoveragePause&) = delete;
  CoveragePause& operator=(const CoveragePause&) = delete;

 private:
  std::vector<NamedEngine>& engines_;
};

// The class of a kernel finding against engine `i`, from the outcomes of
// the same kernel's JIT and interpreter when the campaign runs both.
// The index of the engine running the same kernel the other way (JIT or
// interpreter) as engine `i`, when the campaign has it.
std::optional<std::size_t> counterpart_index(const std::vector<NamedEngine>& engines, std::size_t i) {
  const auto other = kernel_counterpart(engines[i].name);
  if (!other) return std::nullopt;
  for (std::size_t j = 0; j < engines.size(); ++j) {
    if (engines[j].name == *other) return j;
  }
  return std::nullopt;
}

KernelBugClass classify_here(const std::vector<NamedEngine>& engines, const KernelCase& c, std::size_t i,
                             std::size_t reference) {
  const auto j = counterpart_index(engines, i);
  if (!j || !abandoned_reason(c.outcomes[*j]).empty()) return KernelBugClass::Unclassified;
  const bool i_is_jit = engines[i].name == oracle::kKernelQemuEngine;
  return classify_kernel_bug(c.outcomes[reference], c.outcomes[i_is_jit ? i : *j],
                             c.outcomes[i_is_jit ? *j : i]);
}

// The same for a guest failure of kind `kind` on engine `i`.
KernelBugClass classify_guest_failure_here(const std::vector<NamedEngine>& engines, const KernelCase& c,
                                           std::size_t i, const std::string& kind) {
  const auto j = counterpart_index(engines, i);
  if (!j || !abandoned_reason(c.outcomes[*j]).empty()) return KernelBugClass::Unclassified;
  const bool i_is_jit = engines[i].name == oracle::kKernelQemuEngine;
  return classify_guest_failure(kind, c.outcomes[i_is_jit ? i : *j], c.outcomes[i_is_jit ? *j : i]);
}

// Whether a kernel engine gave up on case `c` (its outcome is no verdict).
bool any_abandoned(const KernelCase& c) {
  return std::any_of(c.outcomes.begin(), c.outcomes.end(),
                     [](const oracle::Outcome& o) { return !abandoned_reason(o).empty(); });
}

bool shrank(const KernelMinimized& m, const KernelCase& c) {
  return m.program.slots != c.program.slots || m.memory != c.input.memory;
}

// Case `c` with its minimized program and memory, run again on every engine
// so the finding is written with what the minimized case does; `f` keeps
// the original program and the minimizer's test count.
KernelCase rerun_minimized(std::vector<NamedEngine>& engines, const KernelCase& c, KernelMinimized&& m,
                           KernelFindingRecord& f) {
  KernelCase mc;
  mc.seed = c.seed;
  mc.iteration = c.iteration;
  mc.origin = c.origin;
  mc.program = std::move(m.program);
  mc.input = c.input;
  mc.input.memory = std::move(m.memory);
  for (NamedEngine& e : engines)
    mc.outcomes.push_back(e.engine->run(mc.program, mc.input));
  f.original_program = c.program;
  f.original_memory = c.input.memory;
  f.minimize_tests = m.stats.tests;
  return mc;
}

class KernelCampaign {
 public:
  KernelCampaign(const KernelCampaignOptions& options,
                 const std::function<void(const std::string&)>& progress, const KernelCampaignHooks& hooks)
      : options_(options), progress_(progress), hooks_(hooks) {}

  Result<KernelCampaignResult> run();

 private:
  Result<void> load_state();
  Result<void> save_state();
  // The next program to run, or nothing when the campaign is over (time,
  // count, signal). Call with mutex_ held.
  std::optional<NextCase> next_case();
  // A batch of programs on a worker's engines (no lock held): ours on each,
  // then each kernel engine on all of them at once (KernelEngine::run_batch),
  // then each judged in order and added to the campaign's results (under
  // mutex_).
  void run_batch(std::vector<NamedEngine>& engines, std::vector<NextCase> batch);
  // The case of `next`, with our engines' outcomes in it.
  KernelCase run_ours(std::vector<NamedEngine>& engines, const NextCase& next, std::vector<double>& seconds);
  // Compares case `c` (every engine has run it), minimizes and records its
  // findings, and adds it to the campaign's results.
  void judge(std::vector<NamedEngine>& engines, const NextCase& next, KernelCase c,
             const std::vector<double>& seconds);
  // The guest failure `f` of case `c` shrunk (kernel_minimize.hpp) and run
  // again on every engine; nothing when it no longer shrinks or the
  // minimized program no longer breaks its guest the same way. Fills in
  // `f`'s title, record and original program.
  std::optional<KernelCase> minimize_guest_failure_case(std::vector<NamedEngine>& engines,
                                                        const KernelCase& c, KernelFindingRecord& f);
  void worker(std::vector<NamedEngine>& engines);
  void record(const KernelFindingRecord& finding, const KernelCase& c);
  std::pair<uint64_t, uint64_t> guest_counters() const;
  std::string progress_line() const;

  KernelCampaignOptions options_;
  const std::function<void(const std::string&)>& progress_;
  const KernelCampaignHooks& hooks_;
  // One set of engines per worker; the workers share the guest pool, each
  // keeps one guest busy.
  std::vector<std::vector<NamedEngine>> workers_;
  std::vector<std::string> engine_names_;
  std::size_t reference_ = 0;
  std::optional<fuzz::KernelCaseMix> mix_;    // used under mutex_
  std::optional<CampaignCoverage> coverage_;  // used under mutex_
  std::mutex mutex_;
  uint64_t dispatched_ = 0;  // programs handed to workers this session
  Clock::time_point last_progress_;
  uint64_t next_iteration_ = 0;
  uint64_t previous_programs_ = 0;
  std::pair<uint64_t, uint64_t> guest_baseline_{0, 0};
  KernelCampaignResult result_;
  Clock::time_point start_;
};

std::pair<uint64_t, uint64_t> KernelCampaign::guest_counters() const {
  if (!hooks_.guest_restarts_and_failures) return {0, 0};
  const auto now = hooks_.guest_restarts_and_failures();
  if (!now) return {0, 0};
  return {now->first - std::min(now->first, guest_baseline_.first),
          now->second - std::min(now->second, guest_baseline_.second)};
}

Result<void> KernelCampaign::load_state() {
  const fs::path path = fs::path(options_.out) / "kernel-state.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    result_.seed = options_.seed;
    return {};
  }
  std::ifstream in(path);
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(path.string() + ": not a kernel campaign state");
  result_.seed = j.value("seed", options_.seed);
  // The programs of an iteration depend on the ISA version too: a resumed
  // campaign keeps its own, like its seed.
  const int isa = j.value("isa_version", static_cast<int>(options_.isa_version));
  if (isa >= 1 && isa <= 4) options_.isa_version = static_cast<isa::IsaVersion>(isa);
  next_iteration_ = j.value("next_iteration", uint64_t{0});
  previous_programs_ = j.value("total_programs", uint64_t{0});
  for (const json& f : j.value("findings", json::array())) {
    KernelCampaignFinding k;
    k.signature = f.value("signature", "");
    k.kind = f.value("kind", "");
    k.dir = f.value("dir", "");
    k.count = f.value("count", uint64_t{0});
    k.first_iteration = f.value("first_iteration", uint64_t{0});
    k.known_bug = f.value("known_kernel_bug", "");
    if (!k.signature.empty()) result_.findings.push_back(std::move(k));
  }
  return {};
}

Result<void> KernelCampaign::save_state() {
  json j;
  j["version"] = 1;
  j["seed"] = result_.seed;
  j["next_iteration"] = next_iteration_;
  j["isa_version"] = static_cast<int>(options_.isa_version);
  j["total_programs"] = previous_programs_ + result_.programs;
  j["engines"] = result_.engines;
  j["findings"] = kernel_campaign_findings_json(result_.findings);
  return write_json_atomically((fs::path(options_.out) / "kernel-state.json").string(), j);
}

void KernelCampaign::record(const KernelFindingRecord& finding, const KernelCase& c) {
  auto it = std::find_if(result_.findings.begin(), result_.findings.end(),
                         [&](const KernelCampaignFinding& f) { return f.signature == finding.signature; });
  if (it != result_.findings.end()) {
    ++it->count;
    ++it->hits_this_session;
  } else {
    const std::string findings_dir = (fs::path(options_.out) / "findings").string();
    auto written = write_kernel_finding(findings_dir, finding, c, engine_names_);
    KernelCampaignFinding f;
    f.signature = finding.signature;
    f.kind = finding.kind;
    f.dir = written ? *written : "NOT WRITTEN: " + written.error().message;
    f.count = 1;
    f.hits_this_session = 1;
    f.first_iteration = c.iteration;
    if (finding.known_bug) f.known_bug = std::string(finding.known_bug->id);
    result_.findings.push_back(f);
    ++result_.new_findings;
    if (progress_)
      progress_("kernel campaign: finding " + finding.signature + " (" + finding.title + ") -> " + f.dir);
  }
  if (auto saved = save_state(); !saved && progress_) progress_("kernel campaign: " + saved.error().message);
}

std::optional<NextCase> KernelCampaign::next_case() {
  // Generation is cheap next to any engine, so it happens here, under the
  // lock: iterations are handed out in order and --max-programs is exact.
  if (g_stop.load()) return std::nullopt;
  if (options_.max_programs != 0 && dispatched_ >= options_.max_programs) return std::nullopt;
  if (seconds_since(start_) >= options_.minutes * 60) return std::nullopt;
  NextCase next;
  next.iteration = next_iteration_++;
  next.drawn = mix_->next(case_seed(result_.seed, next.iteration));
  ++dispatched_;
  return next;
}

void KernelCampaign::worker(std::vector<NamedEngine>& engines) {
  while (true) {
    std::vector<NextCase> batch;
    {
      std::lock_guard lock(mutex_);
      while (batch.size() < std::max<std::size_t>(options_.kernel_batch, 1)) {
        std::optional<NextCase> next = next_case();
        if (!next) break;
        batch.push_back(std::move(*next));
      }
    }
    if (batch.empty()) return;
    run_batch(engines, std::move(batch));
  }
}

namespace {

// Whether `p` calls a helper at all, and a map helper (ids 1 to 3).
std::pair<bool, bool> helper_use(const vm::Program& p) {
  bool any = false, map = false;
  for (const isa::RawInsn& i : p.slots) {
    if (i.opcode != 0x85 || i.src != 0) continue;
    any = true;
    map = map || (i.imm >= 1 && i.imm <= 3);
  }
  return {any, map};
}

}  // namespace

KernelCase KernelCampaign::run_ours(std::vector<NamedEngine>& engines, const NextCase& next,
                                    std::vector<double>& seconds) {
  KernelCase c;
  c.seed = result_.seed;
  c.iteration = next.iteration;
  c.origin = std::string(fuzz::to_string(next.drawn.origin));
  c.input = fuzz::engine_input(next.drawn.c);
  c.program = next.drawn.c.program;
  c.outcomes.resize(engines.size());
  seconds.assign(engines.size(), 0.0);
  for (std::size_t i = 0; i < engines.size(); ++i) {
    if (engines[i].kernel) continue;
    const auto start = Clock::now();
    c.outcomes[i] = engines[i].engine->run(c.program, c.input);
    seconds[i] = seconds_since(start);
  }
  return c;
}

void KernelCampaign::run_batch(std::vector<NamedEngine>& engines, std::vector<NextCase> batch) {
  std::vector<KernelCase> cases;
  std::vector<std::vector<double>> seconds(batch.size());
  for (std::size_t n = 0; n < batch.size(); ++n)
    cases.push_back(run_ours(engines, batch[n], seconds[n]));
  // Ours first: a program our reference runs past its budget has no state
  // to compare, so the kernel runs it unmodified only, for its verdict (a
  // runaway loop the verifier walks to its complexity limit: one walk, not
  // two). The verdict still counts: a guest that hangs on it is a finding.
  const auto runaway = [&](const KernelCase& c) {
    return c.outcomes[reference_].error.kind == vm::ErrorKind::BudgetExhausted;
  };
  for (std::size_t i = 0; i < engines.size(); ++i) {
    if (!engines[i].kernel) continue;
    auto* kernel = dynamic_cast<oracle::KernelEngine*>(engines[i].engine.get());
    if (kernel == nullptr) {
      for (std::size_t n = 0; n < cases.size(); ++n) {
        KernelCase& c = cases[n];
        const auto start = Clock::now();
        c.outcomes[i] = runaway(c) ? oracle::run_unmodified_only(*engines[i].engine, c.program, c.input)
                                   : engines[i].engine->run(c.program, c.input);
        seconds[n][i] = seconds_since(start);
      }
      continue;
    }
    std::vector<oracle::KernelEngine::BatchRun> runs;
    for (const KernelCase& c : cases)
      runs.push_back({&c.program, &c.input, runaway(c) ? oracle::kernel::kPlainOnly : 0u});
    const auto start = Clock::now();
    std::vector<oracle::Outcome> outcomes = kernel->run_batch(runs);
    // Each program's time is its wait in the batch (request_ns), plus an
    // equal share of the engine's host work around the requests.
    double waited = 0;
    for (const oracle::Outcome& o : outcomes)
      waited += o.kernel ? static_cast<double>(o.kernel->request_ns) / 1e9 : 0.0;
    const double around = std::max(0.0, seconds_since(start) - waited) / static_cast<double>(cases.size());
    for (std::size_t n = 0; n < cases.size(); ++n) {
      const oracle::Outcome& o = outcomes[n];
      seconds[n][i] = around + (o.kernel ? static_cast<double>(o.kernel->request_ns) / 1e9 : 0.0);
      cases[n].outcomes[i] = std::move(outcomes[n]);
    }
  }
  for (std::size_t n = 0; n < cases.size(); ++n) {
    judge(engines, batch[n], std::move(cases[n]), seconds[n]);
    std::lock_guard lock(mutex_);
    if (hooks_.after_program) hooks_.after_program(result_.programs);
    if (std::chrono::duration<double>(Clock::now() - last_progress_).count() >= options_.progress_seconds) {
      last_progress_ = Clock::now();
      coverage_->sample(seconds_since(start_), result_.programs);
      if (progress_) progress_(progress_line());
      if (auto saved = save_state(); !saved && progress_)
        progress_("kernel campaign: " + saved.error().message);
    }
  }
}

void KernelCampaign::judge(std::vector<NamedEngine>& engines, const NextCase& next, KernelCase c,
                           const std::vector<double>& seconds) {
  const oracle::Outcome& ref = c.outcomes[reference_];
  const std::string& ref_name = engines[reference_].name;
  std::vector<KernelFindingRecord> findings;
  std::vector<std::pair<std::size_t, oracle::KernelComparison>> comparisons;
  bool ours_disagree = false;
  std::string not_judged;              // why a kernel engine gave up on the program, if one did
  std::vector<std::size_t> abandoned;  // the engines that gave up on it
  for (std::size_t i = 0; i < engines.size(); ++i) {
    if (i == reference_) continue;
    const oracle::Outcome& o = c.outcomes[i];
    const std::string& name = engines[i].name;
    if (!engines[i].kernel) {
      // Ours against ours: everything must agree.
      auto diffs = oracle::compare(ref, o, oracle::CompareRules::everything());
      if (diffs.empty()) continue;
      ours_disagree = true;
      KernelFindingRecord f;
      f.kind = "divergence";
      auto sig =
          fuzz::divergence_signature(c.program, c.input, *engines[reference_].engine, *engines[i].engine);
      f.signature =
          sig ? sig->key() : ref_name + "-vs-" + name + "." + fuzz::normalize_field(diffs.front().field);
      f.title = sig ? sig->title() : "divergence " + ref_name + " vs " + name + ": " + diffs.front().field;
      f.differences = std::move(diffs);
      findings.push_back(std::move(f));
      continue;
    }
    // Given up on (the campaign's end, or a verifier too slow under TCG):
    // not judged, so neither tallied nor a finding.
    if (const std::string why = abandoned_reason(o); !why.empty()) {
      not_judged = why;
      abandoned.push_back(i);
      continue;
    }
    const oracle::KernelComparison k = oracle::compare_with_kernel(ref, o);
    comparisons.emplace_back(i, k);
    if (is_guest_failure(o)) {
      // Ctrl-C or a timeout signals the whole process group, QEMU too: a
      // guest that died while the campaign is being stopped was most likely
      // killed by that signal, which says nothing about its kernel.
      if (g_stop.load()) continue;
      KernelFindingRecord f;
      f.kind = "guest failure";
      f.guest_failure = guest_failure_kind(o);
      const KernelBugClass cls = classify_guest_failure_here(engines, c, i, f.guest_failure);
      // The same kernel's JIT and interpreter guests broken alike are one
      // bug: one finding, against the JIT engine.
      if (cls == KernelBugClass::VerifierOrRewrite && engines[i].name != oracle::kKernelQemuEngine) continue;
      f.signature = name + ".guest-" + f.guest_failure;
      if (cls != KernelBugClass::Unclassified) {
        f.bug_class = to_string(cls);
        f.signature += "." + f.bug_class;
      }
      f.title = o.kernel->log;
      f.guest_record = guest_record_of(o);
      f.kernel_engine = i;
      findings.push_back(std::move(f));
      continue;
    }
    if (!k.finding()) continue;
    KernelFindingRecord f;
    f.kind = oracle::to_string(k.kind);
    // One bug makes several registers and bytes differ at once: a mismatch
    // is one finding per engine pair and class (the differences are listed
    // in it); the unmodified run's and the full-state run's stay apart,
    // since a difference in only one of them points at the wrapper.
    f.signature = kernel_signature(ref_name, name, k, ref);
    f.title = k.reason;
    f.differences = k.differences;
    f.bug_class = to_string(classify_here(engines, c, i, reference_));
    if (f.bug_class != std::string(to_string(KernelBugClass::Unclassified))) f.signature += "." + f.bug_class;
    f.kernel_engine = i;
    // A bug found before, on a kernel older than its fix, is labelled and
    // counted under its own name (and not minimized again).
    if ((f.known_bug = oracle::explain_with_known_bug(c.program, c.input, o))) {
      f.signature = ref_name + "-vs-" + name + ".known." + std::string(f.known_bug->id);
      f.title = "known kernel bug " + std::string(f.known_bug->id) + ": " + std::string(f.known_bug->what);
    }
    findings.push_back(std::move(f));
  }
  // Kernel against kernel (its JIT and its interpreter, or two kernels):
  // where both ran the program and the state is meaningful on both.
  for (std::size_t i = 0; i < engines.size(); ++i) {
    for (std::size_t j = i + 1; j < engines.size(); ++j) {
      if (!engines[i].kernel || !engines[j].kernel) continue;
      const oracle::Outcome& a = c.outcomes[i];
      const oracle::Outcome& b = c.outcomes[j];
      const auto comparable = [](const oracle::Outcome& o) {
        return o.kernel->verdict == oracle::kernel::KernelVerdict::Accepted ||
               o.kernel->verdict == oracle::kernel::KernelVerdict::Rejected;
      };
      if (!comparable(a) || !comparable(b)) continue;  // an abandoned run is Failed: skipped
      if (a.kernel->uninitialized_stack_read || a.kernel->pointer_bits_exposed) continue;
      auto diffs = oracle::compare_kernels(a, b);
      if (diffs.empty()) continue;
      KernelFindingRecord f;
      f.kind = "kernel divergence";
      // Verdicts apart; any state difference is one finding per pair (see above).
      const bool verdict = diffs.front().field.find("verdict") != std::string::npos;
      f.signature = engines[i].name + "-vs-" + engines[j].name + "." +
                    (verdict ? fuzz::normalize_field(diffs.front().field) : std::string("state"));
      f.title = "kernel engines disagree on " + diffs.front().field;
      f.differences = std::move(diffs);
      // Kernels apart because one has a known bug (found against ours
      // above) are that bug, under its name.
      for (const KernelFindingRecord& g : findings) {
        if (g.known_bug && g.kernel_engine && (*g.kernel_engine == i || *g.kernel_engine == j)) {
          f.known_bug = g.known_bug;
          f.signature = engines[i].name + "-vs-" + engines[j].name + ".known." + std::string(g.known_bug->id);
          f.title = g.title;
        }
      }
      findings.push_back(std::move(f));
    }
  }

  // A new kernel finding is minimized before it is written (with this
  // worker's engines, no lock held); repeats are only counted.
  std::vector<std::optional<KernelCase>> minimized(findings.size());
  const CoveragePause no_tracing(engines);
  for (std::size_t n = 0; n < findings.size(); ++n) {
    KernelFindingRecord& f = findings[n];
    if (!f.kernel_engine || f.known_bug || options_.minimize_tests == 0) continue;
    const std::size_t i = *f.kernel_engine;
    const bool guest_failure = !f.guest_failure.empty();
    if (!guest_failure &&
        (!c.outcomes[i].kernel || c.outcomes[i].kernel->verdict != oracle::kernel::KernelVerdict::Accepted))
      continue;
    {
      std::lock_guard lock(mutex_);
      if (std::any_of(result_.findings.begin(), result_.findings.end(),
                      [&](const KernelCampaignFinding& known) { return known.signature == f.signature; }))
        continue;
    }
    if (guest_failure) {
      if (auto mc = minimize_guest_failure_case(engines, c, f)) minimized[n] = std::move(*mc);
      continue;
    }
    const std::string base = f.signature.substr(0, f.bug_class == to_string(KernelBugClass::Unclassified)
                                                       ? std::string::npos
                                                       : f.signature.size() - f.bug_class.size() - 1);
    KernelMinimized m = minimize_kernel_case(c, base, *engines[reference_].engine, ref_name,
                                             *engines[i].engine, engines[i].name, options_.minimize_tests);
    if (!shrank(m, c)) continue;
    KernelFindingRecord candidate = f;
    KernelCase mc = rerun_minimized(engines, c, std::move(m), candidate);
    if (any_abandoned(mc)) continue;  // the deadline came: the original stands
    f = std::move(candidate);
    const oracle::KernelComparison again =
        oracle::compare_with_kernel(mc.outcomes[reference_], mc.outcomes[i]);
    f.differences = again.differences;
    f.title = again.reason;
    minimized[n] = std::move(mc);
  }

  std::lock_guard lock(mutex_);
  ++result_.programs;
  for (std::size_t i = 0; i < engines.size(); ++i) {
    EngineThroughput& t = result_.throughput[engines[i].name];
    ++t.runs;
    t.seconds += seconds[i];
    if (c.outcomes[i].kernel && result_.kernel_releases[engines[i].name].empty())
      result_.kernel_releases[engines[i].name] = c.outcomes[i].kernel->release;
  }
  bool accepted = false;
  // Agreement that a rerun could turn into "not comparable"
  // (oracle::agreement_is_luck) never feeds the mutants, so that the same
  // seed draws the same programs.
  bool agreed_by_luck = false;
  for (const auto& [i, k] : comparisons) {
    const std::string& name = engines[i].name;
    result_.tallies[name].add(k);
    result_.source_tallies[c.origin][name].add(k);
    result_.kernel_time.add(name, c.origin, seconds[i], c.outcomes[i], k);
    accepted = accepted || k.kind == oracle::KernelAgreement::Agree;
    if (const auto& kernel = c.outcomes[i].kernel)
      agreed_by_luck = agreed_by_luck || oracle::agreement_is_luck(*kernel);
  }
  for (std::size_t i : abandoned)
    result_.kernel_time.add_abandoned(engines[i].name, c.origin, seconds[i], c.outcomes[i]);
  // Mutants are drawn from programs a kernel accepted and that agree, so a
  // mutation's question is only whether the verifier still judges it right.
  // Coverage (when traced) chooses the corpus, else what a kernel accepted.
  std::vector<const oracle::kernel::KernelCoverage*> coverages;
  for (std::size_t i = 0; i < engines.size(); ++i) {
    if (engines[i].kernel && c.outcomes[i].kernel) coverages.push_back(&c.outcomes[i].kernel->coverage);
  }
  // Guided, the scheduler hears about every traced program (what it found,
  // what it cost) and keeps those that found something and are not too slow.
  double cost = 0;
  for (double s : seconds)
    cost += s;
  const auto keep_traced = [&](std::size_t new_edges) { return mix_->covered(next.drawn, new_edges, cost); };
  const auto added = coverage_->add(coverages, accepted && !agreed_by_luck, keep_traced);
  if (added.admit && !(coverage_->guided() && added.traced)) mix_->accepted(next.drawn.c);
  if (ours_disagree) ++result_.ours_disagree;
  const auto [helpers, map_helpers] = helper_use(c.program);
  result_.with_helper_calls += helpers;
  result_.with_map_calls += map_helpers;
  if (!c.program.maps.empty()) {
    ++result_.with_maps;
    result_.maps_agreed += accepted;
  }
  if (!not_judged.empty()) {
    ++result_.not_judged[not_judged];
    if (not_judged == oracle::kernel::guest::kAbandonedTooSlow && result_.too_slow_iterations.size() < 100)
      result_.too_slow_iterations.push_back(c.iteration);
  }
  for (std::size_t n = 0; n < findings.size(); ++n)
    record(findings[n], minimized[n] ? *minimized[n] : c);
}

std::string KernelCampaign::progress_line() const {
  const double elapsed = seconds_since(start_);
  char head[160];
  std::snprintf(head, sizeof head, "kernel campaign %.0fs/%.0fs: %llu programs (%.1f/s)", elapsed,
                options_.minutes * 60, static_cast<unsigned long long>(result_.programs),
                elapsed > 0 ? static_cast<double>(result_.programs) / elapsed : 0.0);
  std::string line = head;
  for (const auto& [name, tally] : result_.tallies) {
    char part[160];
    std::snprintf(part, sizeof part, "  %s: accepts %.1f%%, agree %llu", name.c_str(),
                  tally.acceptance_percent(),
                  static_cast<unsigned long long>(tally.count(oracle::KernelAgreement::Agree)));
    line += part;
  }
  if (const std::string cov = coverage_->progress(); !cov.empty()) line += "  " + cov;
  line += "  findings " + std::to_string(result_.findings.size()) + " (" +
          std::to_string(result_.new_findings) + " new)";
  if (hooks_.guest_restarts_and_failures) {
    const auto [restarts, failures] = guest_counters();
    line += "  guest restarts " + std::to_string(restarts) + ", failures " + std::to_string(failures);
  }
  return line;
}

std::optional<KernelCase> KernelCampaign::minimize_guest_failure_case(std::vector<NamedEngine>& engines,
                                                                      const KernelCase& c,
                                                                      KernelFindingRecord& f) {
  const std::size_t i = *f.kernel_engine;
  // Once more as it was first: a failure that does not come back is not
  // minimized (every candidate would be judged by chance) and says so.
  const oracle::Outcome again = engines[i].engine->run(c.program, c.input);
  if (!abandoned_reason(again).empty()) return std::nullopt;  // the deadline came: not known
  f.reproduced = guest_failure_kind(again) == f.guest_failure;
  if (!*f.reproduced || options_.guest_minimize_failures <= 1) return std::nullopt;
  KernelMinimized m = minimize_guest_failure(c, f.guest_failure, *engines[i].engine, options_.minimize_tests,
                                             options_.guest_minimize_failures - 1);
  if (!shrank(m, c)) return std::nullopt;
  KernelFindingRecord candidate = f;
  KernelCase mc = rerun_minimized(engines, c, std::move(m), candidate);
  // A failure that does not come back (a flaky guest) keeps the original.
  if (any_abandoned(mc) || guest_failure_kind(mc.outcomes[i]) != f.guest_failure) return std::nullopt;
  f = std::move(candidate);
  f.title = mc.outcomes[i].kernel->log;
  f.guest_record = guest_record_of(mc.outcomes[i]);
  return mc;
}

Result<KernelCampaignResult> KernelCampaign::run() {
  if (options_.engines.size() < 2)
    return make_error("--engines needs at least one engine of ours and one kernel engine");
  std::error_code ec;
  fs::create_directories(options_.out, ec);
  if (ec) return make_error(options_.out + ": " + ec.message());
  if (auto loaded = load_state(); !loaded) return loaded.error();

  bool have_ours = false;
  bool have_kernel = false;
  for (const std::string& name : options_.engines) {
    if (std::find(engine_names_.begin(), engine_names_.end(), name) != engine_names_.end())
      return make_error("engine '" + name + "' is named twice in --engines");
    const bool kernel = hooks_.is_kernel_engine ? hooks_.is_kernel_engine(name) : is_kernel(name);
    if (!kernel && !have_ours) reference_ = engine_names_.size();
    have_ours = have_ours || !kernel;
    have_kernel = have_kernel || kernel;
    engine_names_.push_back(name);
  }
  if (!have_ours)
    return make_error("--engines names no engine of ours to compare the kernel with (e.g. interp)");
  if (!have_kernel) return make_error("--engines names no kernel engine");
  fuzz::KernelMixOptions mix;
  mix.isa_version = options_.isa_version;
  mix.max_instructions = options_.max_instructions;
  mix.verifier_stress_share = options_.verifier_stress_share;
  mix.mutate_rate = options_.mutate_rate;
  mix.coverage_scheduled = options_.coverage && options_.coverage_guided;
  auto made_mix = fuzz::KernelCaseMix::create(mix);
  if (!made_mix) return made_mix.error();
  mix_.emplace(std::move(made_mix).value());
  coverage_.emplace(options_.coverage && options_.coverage_guided);
  // One worker per guest, so each guest of the pool has a program in
  // flight. kernel-host alone runs one program at a time (the host's CPUs
  // are ours too).
  const bool host_only = std::all_of(engine_names_.begin(), engine_names_.end(), [&](const std::string& n) {
    const bool kernel = hooks_.is_kernel_engine ? hooks_.is_kernel_engine(n) : is_kernel(n);
    return !kernel || n == oracle::kKernelHostEngine;
  });
  const std::size_t workers = host_only ? 1 : std::max<std::size_t>(options_.guests, 1);
  for (std::size_t w = 0; w < workers; ++w) {
    std::vector<NamedEngine> engines;
    for (const std::string& name : engine_names_) {
      auto made = hooks_.make_engine(name);
      if (!made) return made.error();
      const bool kernel = hooks_.is_kernel_engine ? hooks_.is_kernel_engine(name) : is_kernel(name);
      auto* traced = kernel && options_.coverage ? dynamic_cast<oracle::KernelEngine*>(made->get()) : nullptr;
      if (traced) traced->set_want_coverage(true);
      engines.push_back({name, std::move(made).value(), kernel, traced});
    }
    workers_.push_back(std::move(engines));
  }
  result_.engines = engine_names_;
  result_.reference = engine_names_[reference_];
  result_.out = options_.out;
  if (hooks_.guest_restarts_and_failures) {
    if (auto base = hooks_.guest_restarts_and_failures()) guest_baseline_ = *base;
  }

  start_ = Clock::now();
  last_progress_ = start_;
  if (hooks_.abandon_kernel_requests_from)
    hooks_.abandon_kernel_requests_from(start_ + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(options_.minutes * 60)));
  if (progress_) {
    progress_("kernel campaign: seed " + std::to_string(result_.seed) + ", ISA v" +
              std::to_string(static_cast<int>(options_.isa_version)) + ", from program " +
              std::to_string(next_iteration_) + ", engines " +
              [&] {
                std::string s;
                for (const auto& e : result_.engines)
                  s += (s.empty() ? "" : ",") + e;
                return s;
              }() +
              ", reference " + result_.reference + ", out " + options_.out);
  }
  if (workers_.size() == 1) {
    worker(workers_.front());
  } else {
    std::vector<std::thread> threads;
    for (auto& engines : workers_)
      threads.emplace_back([this, &engines] { worker(engines); });
    for (std::thread& t : threads)
      t.join();
  }
  result_.interrupted = g_stop.load();
  result_.seconds = seconds_since(start_);
  result_.total_programs = previous_programs_ + result_.programs;
  coverage_->sample(result_.seconds, result_.programs);
  if (const fuzz::CorpusScheduler* s = mix_->scheduler(); s && s->size() > 0)
    coverage_->note_scheduler({s->mutant_share(), s->typical_cost(), s->too_slow()});
  result_.coverage_edges = coverage_->edges();
  result_.corpus = coverage_->corpus();
  result_.coverage_timeline = coverage_->timeline();
  result_.coverage_summary = coverage_->summary();
  const auto [restarts, failures] = guest_counters();
  result_.guest_restarts = restarts;
  result_.guest_failures = failures;
  if (progress_) progress_(progress_line());
  if (auto saved = save_state(); !saved) return saved.error();
  if (auto report = write_kernel_campaign_report(options_, *coverage_, result_); !report)
    return report.error();
  return std::move(result_);
}

}  // namespace

bool KernelCampaignResult::hit_unknown_findings() const {
  return std::any_of(findings.begin(), findings.end(), [](const KernelCampaignFinding& f) {
    return f.known_bug.empty() && f.hits_this_session > 0;
  });
}

bool names_kernel_engine(const std::vector<std::string>& engines) {
  return std::any_of(engines.begin(), engines.end(), is_kernel);
}

Result<KernelCampaignResult> run_kernel_campaign(const KernelCampaignOptions& options,
                                                 const std::function<void(const std::string&)>& progress,
                                                 const KernelCampaignHooks& hooks) {
  g_stop.store(false);
  const fuzz::ScopedStopSignals stop_signals(on_signal);
  KernelCampaign campaign(options, progress, hooks);
  return campaign.run();
}

}  // namespace bpfdiff::cli
