#include "fuzz/campaign/campaign.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "fuzz/campaign/campaign_report.hpp"
#include "fuzz/campaign/campaign_triage.hpp"
#include "fuzz/campaign/coverage_summary.hpp"
#include "fuzz/campaign/subprocess.hpp"
#include "fuzz/findings/atomic_file.hpp"
#include "fuzz/findings/replay.hpp"
#include "fuzz/stop_signals.hpp"
#include "oracle/run/input.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

constexpr double kMinSliceSeconds = 1;
constexpr auto kPoll = std::chrono::milliseconds(200);

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string human(uint64_t v) {
  if (v >= 10'000'000) return fixed(static_cast<double>(v) / 1e6, 1) + "M";
  if (v >= 100'000) return fixed(static_cast<double>(v) / 1e3, 0) + "k";
  return std::to_string(v);
}

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

bool is_crash_artifact(const std::string& name) {
  for (const char* prefix : {"crash-", "timeout-", "oom-", "leak-"}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::size_t files_in(const fs::path& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) ++n;
  }
  return n;
}

// One fuzzer process working on one item.
struct Job {
  std::size_t item = 0;
  std::string target;
  unsigned slot = 0;
  std::optional<Subprocess> process;
  std::string log;
  std::size_t log_offset = 0;
  std::string log_tail;  // the unparsed end of the log (a status line may arrive in pieces)
  Clock::time_point started;
  double done_before = 0;    // item.done when it started
  double asked_seconds = 0;  // its -max_total_time
  FuzzerStatus status;
  std::string afl_name;
};

class Campaign {
 public:
  Campaign(const CampaignOptions& options, CampaignState state, const ProgressSink& progress)
      : opt_(options), state_(std::move(state)), progress_(progress) {
    out_ = fs::path(opt_.out);
    bin_dir_ = fs::path(opt_.build_dir) / "fuzz";
  }

  Result<CampaignResult> run(const std::vector<std::string>& targets) {
    if (auto r = prepare_directories(targets); !r) return r.error();
    secure_all_crashes();
    Session* session = state_.open_session();
    if (session != nullptr) {
      say("fuzz: resuming the interrupted session in " + opt_.out + ": " +
          fixed(session->planned_seconds - session->elapsed_seconds, 0) + " s of " +
          fixed(session->planned_seconds, 0) + " s left");
    } else {
      Session fresh;
      fresh.planned_seconds = opt_.minutes * 60;
      fresh.jobs = opt_.jobs;
      fresh.items = plan_work(targets, opt_.jobs, fresh.planned_seconds);
      state_.sessions.push_back(std::move(fresh));
      session = &state_.sessions.back();
      say("fuzz: " + std::to_string(targets.size()) + " targets, " + std::to_string(opt_.jobs) + " jobs, " +
          fixed(session->planned_seconds, 0) + " s, " + to_string(opt_.engine) + ", output in " + opt_.out);
    }
    if (auto s = save(); !s) return s.error();

    CampaignResult result;
    result.interrupted = !fuzz_loop();
    if (!result.interrupted) {
      Session& done = state_.sessions.back();
      done.complete = true;
      state_.fuzz_seconds_before += done.elapsed_seconds;
      if (auto s = save(); !s) return s.error();
      merge_corpora(targets);
      if (opt_.triage) {
        if (auto t = triage(); !t) return t.error();
      }
    }
    std::optional<CoverageSummary> coverage;
    if (!result.interrupted && opt_.coverage) {
      auto c = measure_coverage(
          {(fs::path(opt_.coverage_build_dir) / "fuzz").string(), (out_ / "coverage").string(),
           fs::absolute(opt_.source_root).lexically_normal().string(), corpora(targets)});
      if (c) {
        coverage = std::move(c).value();
      } else {
        result.coverage_note = c.error().message;
      }
    } else {
      result.coverage_note = result.interrupted
                                 ? "Interrupted: coverage is measured when a session completes."
                                 : "Not measured (--no-coverage).";
    }
    if (auto s = save(); !s) return s.error();
    const CampaignReport report{&state_, coverage, result.coverage_note, opt_.out};
    result.report_json = (out_ / "report.json").string();
    result.report_html = (out_ / "report.html").string();
    if (auto w = write_json_atomically(result.report_json, campaign_report_json(report), 1); !w)
      return w.error();
    if (auto w = write_text_atomically(result.report_html, campaign_report_html(report)); !w)
      return w.error();
    result.state = state_;
    return result;
  }

 private:
  void say(const std::string& line) {
    if (progress_) progress_(line);
  }

  Result<void> save() { return save_campaign_state(state_, opt_.out); }

  Result<void> prepare_directories(const std::vector<std::string>& targets) {
    std::error_code ec;
    for (const std::string& t : targets) {
      for (const fs::path& d : {out_ / "corpus" / t, out_ / "crashes" / t, out_ / "staging" / t}) {
        fs::create_directories(d, ec);
        if (ec) return make_error(d.string() + ": " + ec.message());
      }
      state_.targets.try_emplace(t);
    }
    fs::create_directories(out_ / "logs", ec);
    if (ec) return make_error((out_ / "logs").string() + ": " + ec.message());
    return {};
  }

  fs::path seeds_of(const std::string& target) const {
    return fs::path(opt_.source_root) / "corpus" / "fuzz" / target;
  }

  fs::path dict_of(const std::string& target) const {
    return fs::path(opt_.source_root) / "fuzz" / "dict" / (target + ".dict");
  }

  std::vector<std::pair<std::string, std::string>> corpora(const std::vector<std::string>& targets) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& t : targets) {
      const fs::path dir = opt_.engine == FuzzEngine::Afl ? out_ / "afl-cmin" / t : out_ / "corpus" / t;
      std::error_code ec;
      out.emplace_back(t, fs::is_directory(dir, ec) ? dir.string() : (out_ / "corpus" / t).string());
    }
    return out;
  }

  // Records a crash file already under OUT/crashes (idempotent).
  void record_crash(const std::string& target, const fs::path& file) {
    const std::string rel = fs::relative(file, out_).string();
    if (state_.crash(rel) != nullptr) return;
    state_.crashes.push_back({rel, target, false, ""});
    ++state_.targets[target].crashes;
    say("fuzz: crash in " + target + ": " + rel);
  }

  // Moves what the fuzzers left into OUT/crashes/<target>/ (a rename, so a
  // file there is always complete) and records it -- before any job restarts.
  void secure_crashes(const std::string& target) {
    std::error_code ec;
    const fs::path crashes = out_ / "crashes" / target;
    // libFuzzer: OUT/staging/<target>/<slot>/crash-<sha1>, written by the fuzzer itself.
    for (fs::recursive_directory_iterator it(out_ / "staging" / target, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const std::string name = it->path().filename().string();
      if (!is_crash_artifact(name)) continue;
      const fs::path dest = crashes / name;
      if (fs::exists(dest, ec)) {
        fs::remove(it->path(), ec);  // the same input (same hash) again
      } else {
        fs::rename(it->path(), dest, ec);
      }
      if (!ec) record_crash(target, dest);
    }
    // AFL++: OUT/afl/<target>/<instance>/crashes/id:..., copied atomically.
    for (fs::directory_iterator inst(out_ / "afl" / target, ec), end; !ec && inst != end;
         inst.increment(ec)) {
      std::error_code ec2;
      for (fs::directory_iterator it(inst->path() / "crashes", ec2), end2; !ec2 && it != end2;
           it.increment(ec2)) {
        const std::string name = it->path().filename().string();
        if (name.rfind("id:", 0) != 0) continue;
        std::string id = name.substr(0, name.find(','));
        std::replace(id.begin(), id.end(), ':', '_');
        const fs::path dest = crashes / ("afl-" + inst->path().filename().string() + "-" + id);
        std::error_code ec3;
        if (!fs::exists(dest, ec3)) {
          auto bytes = read_file(it->path().string());
          if (!bytes || !write_file_atomically(dest.string(), *bytes)) continue;
        }
        record_crash(target, dest);
      }
    }
    // Anything already moved but not yet recorded (killed in between).
    for (fs::directory_iterator it(crashes, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) record_crash(target, it->path());
    }
  }

  void secure_all_crashes() {
    for (const auto& [target, totals] : state_.targets)
      secure_crashes(target);
    (void)save();
  }

  std::vector<std::string> command(Job& job, double seconds) {
    const std::string bin = (bin_dir_ / ("fuzz_" + job.target)).string();
    const auto secs = std::to_string(std::max<long>(1, std::lround(seconds)));
    std::error_code ec;
    fs::path seeds = seeds_of(job.target);
    bool has_seeds = fs::is_directory(seeds, ec) && !fs::is_empty(seeds, ec);
    if (!has_seeds && opt_.engine == FuzzEngine::Afl) {
      // afl-fuzz refuses to start without an input: one empty program will do.
      seeds = out_ / "seeds" / job.target;
      fs::create_directories(seeds, ec);
      const std::vector<uint8_t> empty = {0, 0, 0, 0};
      (void)write_file_atomically((seeds / "empty").string(), empty);
      has_seeds = true;
    }
    const fs::path dict = dict_of(job.target);
    const bool has_dict = fs::exists(dict, ec);
    if (opt_.engine == FuzzEngine::LibFuzzer) {
      const fs::path staging = out_ / "staging" / job.target / std::to_string(job.slot);
      fs::create_directories(staging, ec);
      std::vector<std::string> argv = {bin, (out_ / "corpus" / job.target).string()};
      if (has_seeds) argv.push_back(seeds.string());
      argv.push_back("-artifact_prefix=" + staging.string() + "/");
      argv.push_back("-max_total_time=" + secs);
      argv.push_back("-print_final_stats=1");
      argv.push_back("-timeout=" + std::to_string(input_timeout_seconds(job.target)));
      argv.push_back("-rss_limit_mb=2048");
      if (has_dict) argv.push_back("-dict=" + dict.string());
      return argv;
    }
    std::vector<std::string> argv = {"afl-fuzz", "-i", seeds.string(), "-o",
                                     (out_ / "afl" / job.target).string()};
    const bool main_instance = job.afl_name == "main";
    argv.push_back(main_instance ? "-M" : "-S");
    argv.push_back(job.afl_name);
    argv.push_back("-V");
    argv.push_back(secs);
    if (input_timeout_seconds(job.target) > 10) {  // else AFL++'s own, calibrated per target
      argv.push_back("-t");
      argv.push_back(std::to_string(input_timeout_seconds(job.target) * 1000));
    }
    if (has_dict) {
      argv.push_back("-x");
      argv.push_back(dict.string());
    }
    argv.push_back("--");
    argv.push_back(bin);
    return argv;
  }

  Environment environment(const std::string& target) const {
    if (opt_.engine == FuzzEngine::LibFuzzer) return {};
    return afl_environment(opt_.build_dir, target);
  }

  // The AFL++ instance name of an item: the first item of a target is its main instance.
  std::string afl_name(const Session& s, std::size_t item) const {
    for (std::size_t i = 0; i < item; ++i) {
      if (s.items[i].target == s.items[item].target) return "s" + std::to_string(item);
    }
    return "main";
  }

  Result<Job> start_job(Session& s, std::size_t item, unsigned slot, double seconds) {
    Job job;
    job.item = item;
    job.target = s.items[item].target;
    job.slot = slot;
    job.afl_name = afl_name(s, item);
    job.log = (out_ / "logs" / (job.target + "-" + std::to_string(slot) + ".log")).string();
    job.started = Clock::now();
    job.done_before = s.items[item].done;
    job.asked_seconds = seconds;
    auto p = Subprocess::start(command(job, seconds), job.log, environment(job.target));
    if (!p) return p.error();
    job.process = std::move(p).value();
    return job;
  }

  void refresh_status(Job& job) {
    if (opt_.engine == FuzzEngine::LibFuzzer) {
      job.log_tail += read_new_bytes(job.log, job.log_offset);
      const std::size_t nl = job.log_tail.rfind('\n');
      if (nl == std::string::npos) return;
      if (auto s = parse_libfuzzer_output(std::string_view(job.log_tail).substr(0, nl))) job.status = *s;
      job.log_tail.erase(0, nl + 1);
      return;
    }
    const fs::path dir = out_ / "afl" / job.target / job.afl_name;
    const auto text = [](const Result<std::vector<uint8_t>>& bytes) {
      return bytes ? std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size())
                   : std::string_view();
    };
    const auto stats = read_file((dir / "fuzzer_stats").string());
    const auto plot = read_file((dir / "plot_data").string());
    std::optional<FuzzerStatus> best = parse_afl_stats(text(stats));
    // Whichever is further along: plot_data is rewritten more often.
    if (auto p = parse_afl_plot_data(text(plot)); p && (!best || p->execs > best->execs)) best = p;
    if (best) job.status = *best;
  }

  // A finished job's numbers join its target's totals.
  void account(Session& s, Job& job) {
    refresh_status(job);
    WorkItem& item = s.items[job.item];
    const double wall = seconds_between(job.started, Clock::now());
    item.done = std::min(item.seconds, job.done_before + wall);
    // A job that ran its whole time shows how long jobs take to start; one
    // that ended early (a crash) shows nothing. The largest seen, at most 10 s.
    if (wall >= job.asked_seconds)
      startup_seconds_ = std::min(10.0, std::max(startup_seconds_, wall - job.asked_seconds));
    TargetTotals& t = state_.targets[job.target];
    t.execs += job.status.execs;
    t.seconds += seconds_between(job.started, Clock::now());
    t.coverage = std::max(t.coverage, job.status.coverage);
    t.features = std::max(t.features, job.status.features);
    t.corpus = std::max(t.corpus, job.status.corpus);
    secure_crashes(job.target);
  }

  void sample(const Session& s, const std::vector<Job>& running) {
    const double t = state_.fuzz_seconds_before + s.elapsed_seconds;
    for (const auto& [name, totals] : state_.targets) {
      Sample x{t, name, totals.execs, totals.coverage, totals.corpus};
      bool active = false;
      for (const Job& j : running) {
        if (j.target != name) continue;
        active = true;
        x.execs += j.status.execs;
        x.coverage = std::max(x.coverage, j.status.coverage);
        x.corpus = std::max(x.corpus, j.status.corpus);
      }
      // Targets that are not running keep their last point: no flat noise in the plots.
      if (active || x.execs != 0) state_.samples.push_back(x);
    }
  }

  CampaignProgress progress_of(const Session& s, const std::vector<Job>& running) const {
    CampaignProgress p;
    p.elapsed = s.elapsed_seconds;
    p.planned = s.planned_seconds;
    for (const auto& [name, totals] : state_.targets) {
      uint64_t cov = totals.coverage;
      uint64_t corpus = totals.corpus;
      p.execs += totals.execs;
      for (const Job& j : running) {
        if (j.target != name) continue;
        p.execs += j.status.execs;
        cov = std::max(cov, j.status.coverage);
        corpus = std::max(corpus, j.status.corpus);
      }
      p.coverage += cov;
      p.corpus += corpus;
    }
    for (const Job& j : running) {
      p.exec_per_sec += static_cast<double>(j.status.exec_per_sec);
      p.running.push_back(j.target);
    }
    p.crashes = state_.crashes.size();
    return p;
  }

  // True when the session ran to its end, false when asked to stop.
  bool fuzz_loop() {
    Session& s = state_.sessions.back();
    const Clock::time_point start = Clock::now();
    const double elapsed_before = s.elapsed_seconds;
    std::vector<Job> running;
    std::vector<bool> slot_busy(s.jobs == 0 ? 1 : s.jobs, false);
    Clock::time_point next_tick = start;
    bool stopped = false;

    const auto remaining_wall = [&] {
      return s.planned_seconds - elapsed_before - seconds_between(start, Clock::now());
    };
    const auto next_item = [&]() -> std::optional<std::size_t> {
      for (std::size_t i = 0; i < s.items.size(); ++i) {
        const bool busy =
            std::any_of(running.begin(), running.end(), [i](const Job& j) { return j.item == i; });
        if (!busy && s.items[i].remaining() >= kMinSliceSeconds) return i;
      }
      return std::nullopt;
    };

    const auto waiting_items = [&] {
      std::size_t n = 0;
      for (std::size_t i = 0; i < s.items.size(); ++i) {
        const bool busy =
            std::any_of(running.begin(), running.end(), [i](const Job& j) { return j.item == i; });
        n += !busy && s.items[i].remaining() >= kMinSliceSeconds;
      }
      return n;
    };

    for (;;) {
      if (g_stop.load()) {
        stopped = true;
        break;
      }
      const double wall_left = remaining_wall();
      if (wall_left <= 0) break;
      for (unsigned slot = 0; slot < slot_busy.size(); ++slot) {
        if (slot_busy[slot] || wall_left < kMinSliceSeconds) continue;
        const auto item = next_item();
        if (!item) break;
        const double seconds =
            job_seconds(wall_left, waiting_items(), s.jobs, startup_seconds_, s.items[*item].remaining());
        auto job = start_job(s, *item, slot, seconds);
        if (!job) {
          say("fuzz: " + job.error().message);
          s.items[*item].done = s.items[*item].seconds;  // cannot run: give its time up
          continue;
        }
        slot_busy[slot] = true;
        running.push_back(std::move(job).value());
      }
      if (running.empty() && !next_item()) break;
      std::this_thread::sleep_for(kPoll);

      for (std::size_t i = 0; i < running.size();) {
        if (!running[i].process->poll()) {
          ++i;
          continue;
        }
        account(s, running[i]);
        slot_busy[running[i].slot] = false;
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        (void)save();  // the crash it may have left is recorded before the next job starts
      }

      if (Clock::now() >= next_tick) {
        next_tick = Clock::now() + std::chrono::milliseconds(static_cast<long>(opt_.progress_seconds * 1000));
        for (Job& j : running) {
          refresh_status(j);
          s.items[j.item].done =
              std::min(s.items[j.item].seconds, j.done_before + seconds_between(j.started, Clock::now()));
          secure_crashes(j.target);
        }
        s.elapsed_seconds =
            std::min(s.planned_seconds, elapsed_before + seconds_between(start, Clock::now()));
        sample(s, running);
        say(format_progress(progress_of(s, running)));
        (void)save();
      }
    }
    for (Job& j : running) {
      j.process->stop(std::chrono::seconds(5));
      account(s, j);
    }
    s.elapsed_seconds = std::min(s.planned_seconds, elapsed_before + seconds_between(start, Clock::now()));
    if (!stopped) s.elapsed_seconds = s.planned_seconds;
    running.clear();
    sample(s, running);
    (void)save();
    return !stopped;
  }

  void merge_corpora(const std::vector<std::string>& targets) {
    const std::string scratch = (out_ / "logs" / "merge.log").string();
    for (const std::string& t : targets) {
      std::error_code ec;
      const std::string bin = (bin_dir_ / ("fuzz_" + t)).string();
      if (opt_.engine == FuzzEngine::LibFuzzer) {
        const fs::path corpus = out_ / "corpus" / t;
        const fs::path merged = out_ / "corpus.merge" / t;
        fs::remove_all(merged, ec);
        fs::create_directories(merged, ec);
        auto r = run_to_completion({bin, "-merge=1", merged.string(), corpus.string()}, scratch,
                                   std::chrono::seconds(600));
        if (!r || r->exit_code != 0) {
          say("fuzz: merging the corpus of " + t + " failed; keeping it as it is");
          continue;
        }
        const fs::path old = out_ / "corpus.old" / t;
        fs::remove_all(old, ec);
        fs::create_directories(old.parent_path(), ec);
        fs::rename(corpus, old, ec);
        if (!ec) fs::rename(merged, corpus, ec);
        if (ec) {
          fs::rename(old, corpus, ec);  // put the unmerged one back
          continue;
        }
        fs::remove_all(old, ec);
        const std::size_t after = files_in(corpus);
        say("fuzz: merged corpus of " + t + ": " + std::to_string(after) + " inputs");
        state_.targets[t].corpus = after;
      } else {
        const fs::path queue = out_ / "afl" / t / "main" / "queue";
        if (!fs::is_directory(queue, ec)) continue;
        const fs::path cmin = out_ / "afl-cmin" / t;
        fs::remove_all(cmin, ec);
        auto r = run_to_completion({"afl-cmin", "-i", queue.string(), "-o", cmin.string(), "--", bin},
                                   scratch, std::chrono::seconds(600), {{"AFL_SKIP_BIN_CHECK", "1"}});
        if (r && r->exit_code == 0) {
          state_.targets[t].corpus = files_in(cmin);
          say("fuzz: afl-cmin corpus of " + t + ": " + std::to_string(state_.targets[t].corpus) + " inputs");
        }
      }
    }
    // Only empty scaffolding is left of the swaps; remove() keeps a non-empty directory.
    std::error_code ec;
    fs::remove(out_ / "corpus.merge", ec);
    fs::remove(out_ / "corpus.old", ec);
    (void)save();
  }

  Result<void> triage() {
    std::size_t pending = 0;
    for (const CrashRecord& c : state_.crashes)
      pending += c.triaged ? 0 : 1;
    if (pending == 0) return {};
    auto engines = make_engines({});
    if (!engines) return engines.error();
    TriageContext ctx;
    ctx.out_dir = opt_.out;
    ctx.fuzz_bin_dir = bin_dir_.string();
    ctx.libfuzzer = opt_.engine == FuzzEngine::LibFuzzer;
    ctx.engines = &*engines;
    ctx.max_minimize_tests = opt_.max_minimize_tests;
    std::size_t done = 0;
    for (std::size_t i = 0; i < state_.crashes.size(); ++i) {
      if (state_.crashes[i].triaged) continue;
      if (auto t = triage_crash(state_, i, ctx); !t) {
        say("fuzz: triage of " + state_.crashes[i].file + " failed: " + t.error().message);
        continue;
      }
      ++done;
      say("fuzz: triage " + std::to_string(done) + "/" + std::to_string(pending) + ": " +
          state_.crashes[i].file + " -> " + state_.crashes[i].signature);
      if (auto s = save(); !s) return s.error();
    }
    return {};
  }

  CampaignOptions opt_;
  CampaignState state_;
  const ProgressSink& progress_;
  fs::path out_;
  fs::path bin_dir_;
  double startup_seconds_ = 0;  // how long jobs of this run take to start fuzzing (see job_seconds)
};

void on_signal(int) {
  g_stop.store(true);
}

}  // namespace

std::string afl_mutator_prefix(std::string_view target) {
  if (target == "jit_decode") return "1";  // its option byte comes before the raw layout
  if (target == "interp_raw" || target == "interp_vs_jit_raw") return "0";
  return "";
}

int input_timeout_seconds(std::string_view target) {
  return target == "interp_vs_kernel" ? 60 : 10;
}

Environment afl_environment(const std::string& build_dir, std::string_view target) {
  Environment env = {{"AFL_NO_UI", "1"},
                     {"AFL_SKIP_CPUFREQ", "1"},
                     {"AFL_AUTORESUME", "1"},
                     {"AFL_NO_AFFINITY", "1"},
                     {"AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1"},
                     {"AFL_SUPPRESS_ERROR_REPORTING", "1"}};
  const std::string prefix = afl_mutator_prefix(target);
  std::error_code ec;
  const fs::path library = fs::absolute(fs::path(build_dir) / "fuzz" / "libbpfdiff_afl_mutator.so", ec);
  if (prefix.empty() || ec || !fs::is_regular_file(library, ec)) return env;
  env.emplace_back("AFL_CUSTOM_MUTATOR_LIBRARY", library.string());
  env.emplace_back("BPFDIFF_AFL_PREFIX", prefix);
  return env;
}

const char* to_string(FuzzEngine engine) {
  switch (engine) {
    case FuzzEngine::LibFuzzer:
      return "libfuzzer";
    case FuzzEngine::Afl:
      return "afl";
  }
  return "?";
}

std::vector<std::string> discover_targets(const std::string& build_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(build_dir) / "fuzz", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("fuzz_", 0) != 0 || name.size() <= 5) continue;
    if (name.size() > 7 && name.substr(name.size() - 7) == "_replay") continue;
    if (!it->is_regular_file(ec)) continue;
    const auto perms = it->status(ec).permissions();
    if ((perms & fs::perms::owner_exec) == fs::perms::none) continue;
    out.push_back(name.substr(5));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string format_progress(const CampaignProgress& p) {
  std::string running;
  for (const std::string& r : p.running)
    running += (running.empty() ? "" : ",") + r;
  return "fuzz: " + clock_text(p.elapsed) + "/" + clock_text(p.planned) + "  execs " + human(p.execs) + " (" +
         human(static_cast<uint64_t>(p.exec_per_sec)) + "/s)  cov " + std::to_string(p.coverage) +
         "  corpus " + std::to_string(p.corpus) + "  crashes " + std::to_string(p.crashes) +
         (running.empty() ? "" : "  running " + running);
}

void request_campaign_stop() {
  g_stop.store(true);
}

Result<CampaignResult> run_campaign(const CampaignOptions& options, const ProgressSink& progress) {
  CampaignOptions opt = options;
  if (opt.build_dir.empty()) opt.build_dir = opt.engine == FuzzEngine::Afl ? "build/afl" : "build/fuzz";
  if (opt.jobs == 0) return make_error("--jobs must be at least 1");
  const std::vector<std::string> found = discover_targets(opt.build_dir);
  if (found.empty()) {
    const std::string preset = opt.engine == FuzzEngine::Afl ? "afl" : "fuzz";
    return make_error("no fuzz targets in " + (fs::path(opt.build_dir) / "fuzz").string() +
                      ": build them with `cmake --preset " + preset + " && cmake --build --preset " + preset +
                      "`");
  }
  std::vector<std::string> targets;
  if (opt.targets.empty()) {
    targets = found;
  } else {
    for (const std::string& t : opt.targets) {
      if (std::find(found.begin(), found.end(), t) == found.end()) {
        std::string list;
        for (const std::string& f : found)
          list += (list.empty() ? "" : ", ") + f;
        return make_error("no fuzz target '" + t + "' in " + opt.build_dir + " (found: " + list + ")");
      }
      targets.push_back(t);
    }
  }
  std::error_code ec;
  fs::create_directories(opt.out, ec);
  if (ec) return make_error(opt.out + ": " + ec.message());
  auto state = load_campaign_state(opt.out);
  if (!state) return state.error();
  if (!state->sessions.empty() && state->engine != to_string(opt.engine)) {
    return make_error(opt.out + " holds a " + state->engine + " campaign; use another --out for " +
                      to_string(opt.engine));
  }
  state->engine = to_string(opt.engine);
  if (const Session* open = state->open_session()) {
    // A resumed session fuzzes the targets it planned; new ones join the next session.
    targets.clear();
    for (const WorkItem& w : open->items) {
      if (std::find(targets.begin(), targets.end(), w.target) == targets.end()) targets.push_back(w.target);
    }
  }

  g_stop.store(false);
  const fuzz::ScopedStopSignals stop_signals(on_signal);
  Campaign campaign(opt, std::move(state).value(), progress);
  return campaign.run(targets);
}

std::string format_campaign_summary(const CampaignResult& r) {
  const CampaignState& s = r.state;
  std::string out =
      r.interrupted ? "fuzz: interrupted; run the same command again to resume\n" : "fuzz: done\n";
  out += "  target                 execs        exec/s   cov     corpus  crashes\n";
  uint64_t execs = 0;
  double seconds = 0;
  for (const auto& [name, t] : s.targets) {
    execs += t.execs;
    seconds += t.seconds;
    char line[200];
    if (t.seconds <= 0) {  // said, rather than a row of zeros that reads like a target that found nothing
      std::snprintf(line, sizeof line, "  %-22s not run: the time ran out before its turn\n", name.c_str());
      out += line;
      continue;
    }
    std::snprintf(line, sizeof line, "  %-22s %-12llu %-8.0f %-7llu %-7llu %llu\n", name.c_str(),
                  static_cast<unsigned long long>(t.execs),
                  t.seconds > 0 ? static_cast<double>(t.execs) / t.seconds : 0.0,
                  static_cast<unsigned long long>(t.coverage), static_cast<unsigned long long>(t.corpus),
                  static_cast<unsigned long long>(t.crashes));
    out += line;
  }
  out += "  total: " + std::to_string(execs) + " executions in " + fixed(seconds, 0) + " job-seconds (" +
         fixed(seconds > 0 ? static_cast<double>(execs) / seconds : 0, 0) + "/s per job), " +
         std::to_string(s.crashes.size()) + " crash files, " + std::to_string(s.findings.size()) +
         " findings\n";
  for (const FindingRecord& f : s.findings) {
    out += "  finding [" + f.kind + "] " + f.title + " (" + f.target + ", " + std::to_string(f.count) +
           " crash" + (f.count == 1 ? "" : "es") + ")\n    " + f.repro_command + "\n";
    if (!f.replay_command.empty()) out += "    " + f.replay_command + "\n";
  }
  if (!r.coverage_note.empty()) out += "  coverage: " + r.coverage_note + "\n";
  if (!r.report_html.empty()) out += "  report: " + r.report_html + " and " + r.report_json + "\n";
  return out;
}

}  // namespace bpfdiff::cli
