#include "oracle/engine.hpp"

#include <algorithm>
#include <chrono>

#include "vm/program/validate.hpp"
#include "vm/runtime/std_helpers.hpp"

#include "oracle/interp_engine.hpp"
#include "oracle/jit_engine.hpp"
#include "oracle/kernel_host_engine.hpp"
#include "oracle/kernel_qemu_engine.hpp"
#include "oracle/recording_helpers.hpp"
#include "oracle/shared_validation.hpp"
#include "oracle/smt/smt_engine.hpp"

namespace bpfdiff::oracle {

vm::RunResult Executor::run_traced(vm::RunInput input, const vm::TraceFn&) {
  return run(input);
}

namespace {

// The outcome of the run `executor` has just made, with the helper calls
// `log` recorded during it (taken out of the log).
Outcome observed(std::string_view engine, Executor& executor, std::vector<uint8_t>&& memory,
                 std::vector<uint8_t>&& metadata, const vm::RunResult& r,
                 std::vector<HelperCallRecord>& log) {
  Outcome out;
  out.engine = std::string(engine);
  out.loaded = true;
  out.memory = std::move(memory);
  out.metadata = std::move(metadata);
  out.regs = r.regs;
  out.instructions = r.instructions;
  out.error = r.error;
  const auto stack = executor.stack();
  out.stack.assign(stack.begin(), stack.end());
  out.helper_calls = std::move(log);
  log.clear();
  if (auto maps = executor.maps()) {
    out.maps = std::move(*maps);
    out.maps_observed = true;
  }
  if (auto trace = executor.trace_output()) {
    out.trace = std::move(*trace);
    out.trace_observed = true;
  }
  return out;
}

}  // namespace

Outcome Engine::run(const vm::Program& program, const EngineInput& input) {
  std::vector<Outcome> outcomes = run_repeatedly(program, input, {});
  return std::move(outcomes.front());
}

std::vector<Outcome> Engine::run_repeatedly(const vm::Program& program, const EngineInput& input,
                                            std::span<const LaterRun> later) {
  const RecordingHelpers::Lease lease(helpers_);
  RecordingHelpers& helpers = *lease;
  seed_ = input.seed;
  auto executor = prepare_with(program, input.limits, helpers.registry());
  if (!executor) {
    Outcome out;
    out.engine = std::string(name());
    out.load_error = executor.error().message;
    return {std::move(out)};
  }
  std::vector<Outcome> outcomes;
  outcomes.reserve(later.size() + 1);
  for (std::size_t i = 0; i <= later.size(); ++i) {
    if (i > 0 && later[i - 1].state == Rerun::ResetMaps) (*executor)->reset_maps();
    const EngineInput& in = i > 0 && later[i - 1].input ? *later[i - 1].input : input;
    std::vector<uint8_t> memory = in.memory;
    std::vector<uint8_t> metadata = in.metadata;
    const vm::RunResult r = (*executor)->run(run_input(in, memory, metadata));
    outcomes.push_back(
        observed(name(), **executor, std::move(memory), std::move(metadata), r, helpers.log()));
  }
  return outcomes;
}

vm::RunInput run_input(const EngineInput& input, std::vector<uint8_t>& memory,
                       std::vector<uint8_t>& metadata) {
  vm::RunInput r;
  r.mode = input.mode;
  r.memory = memory;
  r.metadata = metadata;
  r.data_offset = input.data_offset;
  r.data_end_offset = input.data_end_offset;
  r.seed = input.seed;
  return r;
}

namespace {

thread_local SharedValidation* current_share = nullptr;

std::vector<uint32_t> sorted_ids(const vm::HelperRegistry& helpers) {
  std::vector<uint32_t> ids = helpers.ids();
  std::sort(ids.begin(), ids.end());
  return ids;
}

uint64_t ns_since(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
}

Result<Validated> validated(const Result<vm::LoadedProgram>& loaded, uint64_t ns) {
  if (!loaded) return loaded.error();
  return Validated{std::make_unique<vm::LoadedProgram>(*loaded), ns};
}

}  // namespace

SharedValidation::SharedValidation(const vm::Program& program) : program_(program), outer_(current_share) {
  current_share = this;
}

SharedValidation::~SharedValidation() {
  current_share = outer_;
}

Result<Validated> timed_validate(const vm::Program& program, const vm::HelperRegistry& helpers) {
  const auto start = std::chrono::steady_clock::now();
  SharedValidation* share = current_share;
  if (share == nullptr || &share->program_ != &program) {
    auto loaded = vm::validate(program, helpers);
    const uint64_t ns = ns_since(start);
    if (!loaded) return loaded.error();
    return Validated{std::make_unique<vm::LoadedProgram>(std::move(loaded).value()), ns};
  }
  std::vector<uint32_t> ids = sorted_ids(helpers);
  if (!share->result_) {
    share->result_ = vm::validate(program, helpers);
    share->ns_ = ns_since(start);
    share->helper_ids_ = std::move(ids);
    return validated(*share->result_, share->ns_);
  }
  if (ids != share->helper_ids_) {
    auto loaded = vm::validate(program, helpers);
    return validated(loaded, ns_since(start));
  }
  ++share->reused_;
  return validated(*share->result_, share->ns_);
}

const vm::HelperRegistry& default_helpers() {
  return vm::standard_helpers();
}

std::vector<std::string> engine_names() {
  std::vector<std::string> names = {"interp"};
  for (const jit::JitOptions& o : jit::all_option_sets())
    names.push_back(jit::engine_name(o));
  return names;
}

std::vector<std::string> kernel_engine_names() {
  std::vector<std::string> names = {kKernelHostEngine};
  for (std::string& n : kernel_qemu_engine_names())
    names.push_back(std::move(n));
  return names;
}

std::vector<std::string> all_engine_names() {
  std::vector<std::string> names = engine_names();
  names.push_back("smt");
  for (std::string& n : kernel_engine_names())
    names.push_back(std::move(n));
  return names;
}

Result<std::unique_ptr<Engine>> make_engine(std::string_view name, const vm::HelperRegistry& helpers) {
  if (name == "interp") return std::unique_ptr<Engine>(std::make_unique<InterpEngine>(helpers));
  if (name == "smt") return std::unique_ptr<Engine>(std::make_unique<SmtEngine>(helpers));
  if (auto options = jit::options_named(name)) {
    return std::unique_ptr<Engine>(std::make_unique<JitEngine>(helpers, *options));
  }
  if (name == kKernelHostEngine) return make_kernel_host_engine(helpers);
  if (is_kernel_qemu_engine(name)) return make_kernel_qemu_engine(name, helpers);
  std::string known;
  for (const std::string& n : all_engine_names())
    known += (known.empty() ? "" : ", ") + n;
  return make_error("unknown engine '" + std::string(name) + "' (available: " + known + ")");
}

}  // namespace bpfdiff::oracle
