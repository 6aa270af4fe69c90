#include "oracle/kernel_engine.hpp"

#include <chrono>
#include <cstring>

#include "oracle/comparability.hpp"
#include "oracle/kernel_entry_program.hpp"
#include "oracle/kernel_outcome.hpp"

namespace bpfdiff::oracle {
namespace {

// FNV-1a over the program and the memory, mixed with the run's seed: the
// full-state wrapper varies from program to program and from run to run,
// and a repro of the same input with the same seed gets the same wrapper.
uint32_t instrumentation_seed(const vm::Program& program, const EngineInput& input) {
  uint64_t h = 0xcbf29ce484222325ull ^ input.seed;
  const auto mix = [&h](uint8_t byte) { h = (h ^ byte) * 0x100000001b3ull; };
  for (uint8_t b : isa::encode_slots(program.slots))
    mix(b);
  for (uint8_t b : input.memory)
    mix(b);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

}  // namespace

// The program's maps as the kernel executor creates them.
std::vector<kernel::KernelMap> request_maps(const vm::Program& program) {
  std::vector<kernel::KernelMap> out;
  for (const vm::MapDef& def : program.maps) {
    kernel::KernelMap m;
    m.type = static_cast<uint32_t>(def.type);
    m.key_size = def.key_size;
    m.value_size = def.value_size;
    m.max_entries = def.max_entries;
    m.read_only = def.read_only;
    // An array's initial values, a hash map's starting entries.
    if (def.type == vm::MapType::Array) m.initial_values = def.initial_values;
    for (const vm::MapEntry& e : def.initial_entries)
      m.initial_entries.push_back({e.key, e.value});
    // A program array's targets: at index k, 1 + the slot the target
    // starts at (0: empty), as u32 (kernel_request.hpp).
    if (def.type == vm::MapType::ProgArray && !def.prog_entries.empty()) {
      m.initial_values.assign(std::size_t{def.max_entries} * 4, 0);
      for (const auto& [key, slot] : def.prog_entries) {
        if (key >= def.max_entries) continue;
        for (int b = 0; b < 4; ++b)
          m.initial_values[std::size_t{key} * 4 + b] = static_cast<uint8_t>((slot + 1) >> (8 * b));
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

KernelEngine::KernelEngine(const vm::HelperRegistry& helpers, std::string name, uint32_t flags,
                           kernel::ExecuteFn execute)
    : Engine(helpers), name_(std::move(name)), flags_(flags), execute_(std::move(execute)) {}

Outcome KernelEngine::run(const vm::Program& program, const EngineInput& input) {
  return run_with_flags(program, input, 0);
}

std::optional<kernel::KernelRequest> KernelEngine::make_request(const vm::Program& program,
                                                                const EngineInput& input, uint32_t extra,
                                                                Outcome& unsupported) const {
  // The kernel starts every program at pc 0: another entry is loaded as a
  // loader would load that program of its object (kernel_entry_program.hpp).
  const Result<vm::Program> as_loaded = program_from_entry(program);
  if (!as_loaded) {
    kernel::KernelResponse response;
    response.verdict = kernel::KernelVerdict::Unsupported;
    response.log =
        "the entry point is pc " + std::to_string(program.entry) + ": " + as_loaded.error().message;
    response.memory = input.memory;
    unsupported = outcome_from_response(name_, response, input.limits);
    return std::nullopt;
  }
  kernel::KernelRequest request;
  request.flags = kernel::kWantLogOnReject | flags_ | extra | (want_coverage_ ? kernel::kWantCoverage : 0u);
  request.program = as_loaded->slots;
  if (input.mode == vm::RunMode::Memory) request.memory = input.memory;
  request.instrumentation_seed = instrumentation_seed(program, input);
  request.maps = request_maps(*as_loaded);
  return request;
}

Outcome KernelEngine::finish(const vm::Program& program, const EngineInput& input,
                             const kernel::KernelRequest& request, const kernel::KernelResponse& response,
                             uint64_t request_ns) const {
  Outcome out = outcome_from_response(name_, response, input.limits, request.maps);
  out.kernel->request_ns = request_ns;
  // As the kernel says it ran the program; the engine's JIT setting when
  // it could not say (an older agent, or nothing loaded).
  out.kernel->interpreted = response.jit == kernel::JitState::Unknown
                                ? (request.flags & kernel::kJitDisable) != 0
                                : response.jit == kernel::JitState::Interpreted;
  if (input.mode != vm::RunMode::Memory) {
    out.memory = input.memory;
    out.kernel->plain.memory = input.memory;
  }
  // A program array reads back as the request gave it (no program can
  // change one), in the slots of the program as loaded (program_from_entry
  // moves an object's programs): each index names its slot in `program`
  // again, as our VM shows it.
  const auto original_slots = [&](std::vector<vm::MapSnapshot>& maps) {
    for (std::size_t i = 0; i < maps.size() && i < program.maps.size(); ++i) {
      if (program.maps[i].type != vm::MapType::ProgArray) continue;
      for (vm::MapEntry& e : maps[i].entries) {
        if (e.key.size() != 4 || e.value.size() != 4) continue;
        uint32_t key = 0;
        std::memcpy(&key, e.key.data(), 4);
        for (const auto& [k, slot] : program.maps[i].prog_entries) {
          if (k == key) std::memcpy(e.value.data(), &slot, 4);
        }
      }
    }
  };
  original_slots(out.maps);
  original_slots(out.kernel->plain_maps);
  // What excuses a disagreement is needed whenever either run was compared.
  if (out.ok() || out.kernel->plain.loaded) {
    const Comparability c = check_comparability(program, input.memory, input.mode, input.limits);
    out.kernel->uninitialized_stack_read = c.uninitialized_stack_read;
    out.kernel->pointer_bits_exposed = c.pointer_bits_exposed;
    out.kernel->pointer_stored_in_memory = c.pointer_stored_in_memory;
    out.kernel->pointer_stored_in_map = c.pointer_stored_in_map;
    out.kernel->stale_map_pointer = c.stale_map_pointer;
    out.kernel->tail_call_argument_changed = c.tail_call_argument_changed;
    out.kernel->rejection_not_comparable = c.rejection_not_comparable;
  }
  return out;
}

namespace {

uint64_t ns_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

}  // namespace

Outcome KernelEngine::run_with_flags(const vm::Program& program, const EngineInput& input, uint32_t extra) {
  Outcome unsupported;
  const std::optional<kernel::KernelRequest> request = make_request(program, input, extra, unsupported);
  if (!request) return unsupported;
  const auto asked = std::chrono::steady_clock::now();
  const kernel::KernelResponse response = execute_(*request);
  return finish(program, input, *request, response, ns_between(asked, std::chrono::steady_clock::now()));
}

std::vector<Outcome> KernelEngine::run_batch(std::span<const BatchRun> runs) {
  std::vector<Outcome> out(runs.size());
  if (!execute_batch_) {
    for (std::size_t i = 0; i < runs.size(); ++i)
      out[i] = run_with_flags(*runs[i].program, *runs[i].input, runs[i].extra_flags);
    return out;
  }
  std::vector<kernel::KernelRequest> requests;
  std::vector<std::size_t> run_of_request;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    auto request = make_request(*runs[i].program, *runs[i].input, runs[i].extra_flags, out[i]);
    if (!request) continue;
    requests.push_back(std::move(*request));
    run_of_request.push_back(i);
  }
  auto previous = std::chrono::steady_clock::now();
  execute_batch_(requests, [&](std::size_t r, kernel::KernelResponse&& response) {
    const auto now = std::chrono::steady_clock::now();
    const std::size_t i = run_of_request[r];
    out[i] = finish(*runs[i].program, *runs[i].input, requests[r], response, ns_between(previous, now));
    previous = now;
  });
  return out;
}

Result<std::unique_ptr<Executor>> KernelEngine::prepare_with(const vm::Program&, const vm::ExecLimits&,
                                                             const vm::HelperRegistry&) {
  return make_error(name_ +
                    " loads the program per input and cannot be prepared ahead: use `bpfdiff run --engine " +
                    name_ + " FILE`, `bpfdiff diff --engines interp," + name_ + " FILE` or `bpfdiff repro`");
}

Outcome run_unmodified_only(Engine& engine, const vm::Program& program, const EngineInput& input) {
  if (auto* kernel = dynamic_cast<KernelEngine*>(&engine))
    return kernel->run_with_flags(program, input, kernel::kPlainOnly);
  return engine.run(program, input);
}

void use_reason_only_logs(Engine& engine) {
  if (auto* kernel = dynamic_cast<KernelEngine*>(&engine)) kernel->add_request_flags(kernel::kReasonOnlyLog);
}

}  // namespace bpfdiff::oracle
