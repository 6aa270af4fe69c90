#include "fuzz/campaign/campaign_state.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "fuzz/findings/atomic_file.hpp"
#include "oracle/run/input.hpp"

namespace bpfdiff::cli {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr const char* kStateFile = "state.json";

template <typename T>
T get_or(const nlohmann::json& j, const char* key, T fallback) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  return it->get<T>();
}

}  // namespace

Session* CampaignState::open_session() {
  if (sessions.empty() || sessions.back().complete) return nullptr;
  return &sessions.back();
}

const CrashRecord* CampaignState::crash(const std::string& file) const {
  for (const CrashRecord& c : crashes) {
    if (c.file == file) return &c;
  }
  return nullptr;
}

FindingRecord* CampaignState::finding(const std::string& key) {
  for (FindingRecord& f : findings) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

Json to_json(const FindingRecord& f) {
  return {{"key", f.key},
          {"title", f.title},
          {"target", f.target},
          {"kind", f.kind},
          {"first_input", f.first_input},
          {"count", f.count},
          {"minimized", f.minimized},
          {"original_slots", f.original_slots},
          {"minimized_slots", f.minimized_slots},
          {"repro_command", f.repro_command},
          {"replay_command", f.replay_command}};
}

Json to_json(const std::vector<Sample>& samples) {
  Json out = Json::array();
  for (const Sample& x : samples) {
    out.push_back({{"t", x.t},
                   {"target", x.target},
                   {"execs", x.execs},
                   {"coverage", x.coverage},
                   {"corpus", x.corpus}});
  }
  return out;
}

Json to_json(const CampaignState& s) {
  Json j;
  j["version"] = s.version;
  j["engine"] = s.engine;
  j["fuzz_seconds_before"] = s.fuzz_seconds_before;
  j["sessions"] = Json::array();
  for (const Session& x : s.sessions) {
    Json items = Json::array();
    for (const WorkItem& w : x.items)
      items.push_back({{"target", w.target}, {"seconds", w.seconds}, {"done", w.done}});
    j["sessions"].push_back({{"planned_seconds", x.planned_seconds},
                             {"elapsed_seconds", x.elapsed_seconds},
                             {"jobs", x.jobs},
                             {"complete", x.complete},
                             {"items", std::move(items)}});
  }
  j["targets"] = Json::object();
  for (const auto& [name, t] : s.targets) {
    j["targets"][name] = {{"execs", t.execs},       {"seconds", t.seconds}, {"coverage", t.coverage},
                          {"features", t.features}, {"corpus", t.corpus},   {"crashes", t.crashes}};
  }
  j["samples"] = to_json(s.samples);
  j["crashes"] = Json::array();
  for (const CrashRecord& c : s.crashes) {
    j["crashes"].push_back(
        {{"file", c.file}, {"target", c.target}, {"triaged", c.triaged}, {"signature", c.signature}});
  }
  j["findings"] = Json::array();
  for (const FindingRecord& f : s.findings) {
    j["findings"].push_back(to_json(f));
  }
  return j;
}

Result<CampaignState> campaign_state_from_json(const nlohmann::json& j) {
  try {
    CampaignState s;
    s.version = get_or(j, "version", 1);
    if (s.version != 1) return make_error("unsupported state version " + std::to_string(s.version));
    s.engine = get_or<std::string>(j, "engine", "libfuzzer");
    s.fuzz_seconds_before = get_or(j, "fuzz_seconds_before", 0.0);
    for (const auto& x : j.value("sessions", nlohmann::json::array())) {
      Session session;
      session.planned_seconds = get_or(x, "planned_seconds", 0.0);
      session.elapsed_seconds = get_or(x, "elapsed_seconds", 0.0);
      session.jobs = get_or(x, "jobs", 1u);
      session.complete = get_or(x, "complete", false);
      for (const auto& w : x.value("items", nlohmann::json::array())) {
        session.items.push_back(
            {get_or<std::string>(w, "target", ""), get_or(w, "seconds", 0.0), get_or(w, "done", 0.0)});
      }
      s.sessions.push_back(std::move(session));
    }
    const nlohmann::json targets = j.value("targets", nlohmann::json::object());
    for (const auto& [name, t] : targets.items()) {
      s.targets[name] = {get_or<uint64_t>(t, "execs", 0),    get_or(t, "seconds", 0.0),
                         get_or<uint64_t>(t, "coverage", 0), get_or<uint64_t>(t, "features", 0),
                         get_or<uint64_t>(t, "corpus", 0),   get_or<uint64_t>(t, "crashes", 0)};
    }
    for (const auto& x : j.value("samples", nlohmann::json::array())) {
      s.samples.push_back({get_or(x, "t", 0.0), get_or<std::string>(x, "target", ""),
                           get_or<uint64_t>(x, "execs", 0), get_or<uint64_t>(x, "coverage", 0),
                           get_or<uint64_t>(x, "corpus", 0)});
    }
    for (const auto& c : j.value("crashes", nlohmann::json::array())) {
      s.crashes.push_back({get_or<std::string>(c, "file", ""), get_or<std::string>(c, "target", ""),
                           get_or(c, "triaged", false), get_or<std::string>(c, "signature", "")});
    }
    for (const auto& f : j.value("findings", nlohmann::json::array())) {
      FindingRecord r;
      r.key = get_or<std::string>(f, "key", "");
      r.title = get_or<std::string>(f, "title", "");
      r.target = get_or<std::string>(f, "target", "");
      r.kind = get_or<std::string>(f, "kind", "");
      r.first_input = get_or<std::string>(f, "first_input", "");
      r.count = get_or<std::size_t>(f, "count", 0);
      r.minimized = get_or<std::string>(f, "minimized", "");
      r.original_slots = get_or<std::size_t>(f, "original_slots", 0);
      r.minimized_slots = get_or<std::size_t>(f, "minimized_slots", 0);
      r.repro_command = get_or<std::string>(f, "repro_command", "");
      r.replay_command = get_or<std::string>(f, "replay_command", "");
      s.findings.push_back(std::move(r));
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("malformed campaign state: ") + e.what());
  }
}

Result<CampaignState> load_campaign_state(const std::string& out_dir) {
  const fs::path path = fs::path(out_dir) / kStateFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return CampaignState{};
  auto bytes = read_file(path.string());
  if (!bytes) return bytes.error();
  const auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
  if (j.is_discarded()) return make_error(path.string() + ": not valid JSON");
  auto s = campaign_state_from_json(j);
  if (!s) return make_error(path.string() + ": " + s.error().message);
  return s;
}

Result<void> save_campaign_state(const CampaignState& state, const std::string& out_dir) {
  return write_json_atomically((fs::path(out_dir) / kStateFile).string(), to_json(state), 1);
}

std::vector<WorkItem> plan_work(const std::vector<std::string>& targets, unsigned jobs, double seconds) {
  std::vector<WorkItem> items;
  if (targets.empty() || jobs == 0 || seconds <= 0) return items;
  if (jobs >= targets.size()) {
    for (unsigned j = 0; j < jobs; ++j)
      items.push_back({targets[j % targets.size()], seconds, 0});
    return items;
  }
  const double share = seconds * jobs / static_cast<double>(targets.size());
  for (const std::string& t : targets)
    items.push_back({t, share, 0});
  return items;
}

double job_seconds(double wall_left, std::size_t waiting, unsigned jobs, double startup, double remaining) {
  if (wall_left <= 0) return 0;
  const double rounds =
      std::ceil(static_cast<double>(std::max<std::size_t>(waiting, 1)) / std::max(jobs, 1u));
  const double turn = std::min(remaining, wall_left / rounds);
  return std::max(turn - startup, std::min(1.0, wall_left));
}

}  // namespace bpfdiff::cli
