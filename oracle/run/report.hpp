#pragma once
// How a run is shown: plain text for people, one JSON object for scripts.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oracle/run/expectation.hpp"
#include "oracle/run/session.hpp"
#include "oracle/run/trace.hpp"
#include "vm/runtime/error.hpp"
#include "vm/runtime/map_store.hpp"

namespace bpfdiff::cli {

// Stable identifiers for JSON ("memory_read"), unlike the prose of vm::to_string.
const char* error_kind_id(vm::ErrorKind kind);

// r0..r10 one per line, the instruction count and the final memory in hex.
std::string format_state(const RunReport& report);

// "expected 0x2a, observed 0x2a: match"
std::string format_verdict(const Verdict& verdict);

// Every map after the run: one header line per map, then "  KEY: VALUE" in
// hex per entry (array entries that are all zero are counted, not listed).
std::string format_maps(const std::vector<vm::MapSnapshot>& maps);
nlohmann::ordered_json maps_json(const std::vector<vm::MapSnapshot>& maps);

nlohmann::ordered_json error_json(const vm::ExecError& error);  // null when there is no error
nlohmann::ordered_json trace_step_json(const TraceStep& step);
nlohmann::ordered_json verdict_json(const Verdict& verdict);

// {"r0", "regs", "instructions", "error", "memory", "load_ns", "compile_ns",
//  "ns_per_run", "engine", "runs", "printk"} (+ "metadata" in mbuff mode)
nlohmann::ordered_json report_json(const RunReport& report);

// The same keys for a program that could not be loaded: error.kind is "load".
nlohmann::ordered_json load_error_json(const std::string& engine, const std::string& message);

}  // namespace bpfdiff::cli
