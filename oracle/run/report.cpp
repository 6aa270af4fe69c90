#include "oracle/run/report.hpp"

#include <algorithm>
#include <cstdio>

#include "oracle/run/hex.hpp"

namespace bpfdiff::cli {

using json = nlohmann::ordered_json;

const char* error_kind_id(vm::ErrorKind kind) {
  switch (kind) {
    case vm::ErrorKind::None:
      return "none";
    case vm::ErrorKind::MemoryRead:
      return "memory_read";
    case vm::ErrorKind::MemoryWrite:
      return "memory_write";
    case vm::ErrorKind::BudgetExhausted:
      return "budget_exhausted";
    case vm::ErrorKind::CallDepthExceeded:
      return "call_depth_exceeded";
    case vm::ErrorKind::BadCallTarget:
      return "bad_call_target";
    case vm::ErrorKind::UnknownHelper:
      return "unknown_helper";
    case vm::ErrorKind::HelperFailed:
      return "helper_failed";
  }
  return "?";
}

std::string format_state(const RunReport& report) {
  std::string out;
  for (std::size_t r = 0; r < report.result.regs.size(); ++r) {
    char line[48];
    std::snprintf(line, sizeof line, "r%-2zu = %s\n", r, hex_u64(report.result.regs[r]).c_str());
    out += line;
  }
  out += "instructions: " + std::to_string(report.result.instructions) + "\n";
  out += "memory: " + (report.memory.empty() ? std::string("(none)") : hex_compact(report.memory)) + "\n";
  if (!report.metadata.empty()) out += "metadata: " + hex_compact(report.metadata) + "\n";
  return out;
}

std::string format_maps(const std::vector<vm::MapSnapshot>& maps) {
  std::string out;
  for (std::size_t i = 0; i < maps.size(); ++i) {
    const vm::MapSnapshot& m = maps[i];
    out += "map " + std::to_string(i) + " '" + m.name + "' (" + vm::to_string(m.type) + ", " +
           std::to_string(m.entries.size()) + (m.entries.size() == 1 ? " entry" : " entries") + ")\n";
    std::size_t zero = 0;
    for (const vm::MapEntry& e : m.entries) {
      const bool all_zero = std::all_of(e.value.begin(), e.value.end(), [](uint8_t b) { return b == 0; });
      if (m.type == vm::MapType::Array && all_zero) {
        ++zero;
        continue;
      }
      out += "  " + hex_compact(e.key) + ": " + hex_compact(e.value) + "\n";
    }
    if (zero > 0) out += "  (" + std::to_string(zero) + " all-zero entries not shown)\n";
  }
  return out;
}

json maps_json(const std::vector<vm::MapSnapshot>& maps) {
  json out = json::array();
  for (const vm::MapSnapshot& m : maps) {
    json entries = json::array();
    for (const vm::MapEntry& e : m.entries)
      entries.push_back(json{{"key", hex_compact(e.key)}, {"value", hex_compact(e.value)}});
    out.push_back(json{{"name", m.name}, {"type", vm::to_string(m.type)}, {"entries", std::move(entries)}});
  }
  return out;
}

std::string format_verdict(const Verdict& verdict) {
  return "expected " + verdict.expected + ", observed " + verdict.observed + ": " +
         (verdict.match ? "match" : "MISMATCH");
}

json error_json(const vm::ExecError& error) {
  if (error.kind == vm::ErrorKind::None) return nullptr;
  return json{{"kind", error_kind_id(error.kind)},
              {"pc", error.pc},
              {"address", hex_u64(error.address)},
              {"size", error.size},
              {"message", vm::describe(error)}};
}

json trace_step_json(const TraceStep& step) {
  json changes = json::object();
  for (const RegChange& c : step.changes)
    changes["r" + std::to_string(c.reg)] = hex_u64(c.value);
  return json{{"pc", step.pc}, {"insn", step.text}, {"changed", std::move(changes)}};
}

json verdict_json(const Verdict& verdict) {
  return json{{"expected", verdict.expected}, {"observed", verdict.observed}, {"match", verdict.match}};
}

json report_json(const RunReport& report) {
  json regs = json::array();
  for (uint64_t r : report.result.regs)
    regs.push_back(hex_u64(r));
  json j{{"r0", hex_u64(report.result.r0())},
         {"regs", std::move(regs)},
         {"instructions", report.result.instructions},
         {"error", error_json(report.result.error)},
         {"memory", hex_compact(report.memory)},
         {"load_ns", report.load_ns},
         {"compile_ns", report.compile_ns},
         {"ns_per_run", report.ns_per_run()},
         {"engine", report.engine},
         {"runs", report.runs},
         {"printk", report.printk}};
  if (!report.metadata.empty()) j["metadata"] = hex_compact(report.metadata);
  return j;
}

json load_error_json(const std::string& engine, const std::string& message) {
  return json{
      {"r0", nullptr},
      {"regs", nullptr},
      {"instructions", 0},
      {"error",
       json{
           {"kind", "load"}, {"pc", nullptr}, {"address", nullptr}, {"size", nullptr}, {"message", message}}},
      {"memory", nullptr},
      {"load_ns", 0},
      {"compile_ns", 0},
      {"ns_per_run", 0},
      {"engine", engine},
      {"runs", 0}};
}

}  // namespace bpfdiff::cli
