#include "oracle/kernel/kernel_executor.hpp"

#include <linux/bpf.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <type_traits>

#include "oracle/kernel/full_state_rewrite.hpp"
#include "oracle/kernel/kernel_release.hpp"
#include "oracle/kernel/program_pieces.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

constexpr std::size_t kFirstLogBytes = std::size_t{64} << 10;
// A load whose log does not fit fails with ENOSPC. Kernels before 6.4 keep
// the head of the log and lose the reason at its end, so for them the buffer
// grows until the log fits or this cap is reached. From 6.4 the log rotates:
// the kernel keeps the tail, which holds the reason, so the first buffer is
// enough. Growing there cost a reload per doubling (about a second each on a
// program that hits the complexity limit, ten under TCG) and up to 64 MiB
// copied several times over, which ran a 256 MiB guest's agent out of memory.
constexpr std::size_t kMaxLogBytes = std::size_t{16} << 20;
// BPF_LOG_STATS: errors and statistics only (the uapi header has no name for it).
constexpr uint32_t kLogStatsLevel = 4;
// Memory maps kept for reuse. Generated inputs take every size up to 256
// bytes (fuzz/generator.hpp), so the cache holds them all: with 64 a guest
// created and freed a memory map for most programs, a tenth of its time
// under TCG. Each costs a page and a map header in the kernel.
constexpr std::size_t kMaxMemoryMaps = 512;

uint64_t elapsed_ns(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
}

std::string sys_error(const char* what, int err) {
  return std::string(what) + ": " + errno_name(err) + ": " + std::strerror(err);
}

std::string uname_release() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return u.release;
}

// Adds the wall time of `f()` to `into` and returns its result, if any.
template <class F>
auto timed(uint64_t& into, F&& f) {
  const auto start = std::chrono::steady_clock::now();
  if constexpr (std::is_void_v<decltype(f())>) {
    f();
    into += elapsed_ns(start);
  } else {
    auto result = f();
    into += elapsed_ns(start);
    return result;
  }
}

// Closes `fd` now, timed: the executor's time includes it.
void close_timed(Fd& fd, uint64_t& into) {
  const auto start = std::chrono::steady_clock::now();
  fd = Fd();
  into += elapsed_ns(start);
}

JitState jit_state_of(int prog_fd) {
  const SysResult<bool> jited = prog_jited(prog_fd);
  if (!jited.ok()) return JitState::Unknown;
  return jited.value ? JitState::Jited : JitState::Interpreted;
}

uint64_t load_u64(const uint8_t* p, uint32_t word) {
  uint64_t v;
  std::memcpy(&v, p + std::size_t{word} * 8, sizeof v);
  return v;
}

}  // namespace

Result<KernelExecutor::MappedValue> KernelExecutor::map_value(uint32_t value_size, const char* name) {
  auto fd = create_mmapable_array(value_size, name);
  if (!fd.ok()) return make_error(sys_error("bpf(BPF_MAP_CREATE)", fd.err));
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  // An mmappable array's values start at offset 0 of the mapping, each
  // rounded up to 8 bytes; the mapping must cover whole pages.
  const std::size_t bytes = (std::size_t{value_size} + 7) / 8 * 8;
  const std::size_t mapped = (bytes + page - 1) / page * page;
  void* data = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd.value.get(), 0);
  if (data == MAP_FAILED) return make_error(sys_error("mmap of a BPF array", errno));
  MappedValue v;
  v.fd = std::move(fd.value);
  v.data = static_cast<uint8_t*>(data);
  v.mapped = mapped;
  v.value_size = value_size;
  return v;
}

void KernelExecutor::unmap(MappedValue& v) {
  if (v.data != nullptr) munmap(v.data, v.mapped);
  v.data = nullptr;
}

Result<std::unique_ptr<KernelExecutor>> KernelExecutor::create(const ExecutorOptions& options) {
  auto regs = map_value(kRegsValueSize, "bpfdiff_regs");
  if (!regs) return regs.error();
  return std::unique_ptr<KernelExecutor>(
      new KernelExecutor(options, std::move(regs).value(), uname_release()));
}

KernelExecutor::KernelExecutor(const ExecutorOptions& options, MappedValue regs, std::string release)
    : options_(options), regs_(std::move(regs)), jit_(options.sysctl_dir), release_(std::move(release)) {}

KernelExecutor::~KernelExecutor() {
  unmap(regs_);
  for (auto& [size, v] : memory_maps_)
    unmap(v);
}

Result<KernelExecutor::MappedValue*> KernelExecutor::memory_map(uint32_t size) {
  if (auto it = memory_maps_.find(size); it != memory_maps_.end()) return &it->second;
  if (memory_maps_.size() >= kMaxMemoryMaps) {
    unmap(memory_maps_.begin()->second);
    memory_maps_.erase(memory_maps_.begin());
  }
  auto v = map_value(size, "bpfdiff_mem");
  if (!v) return v.error();
  return &memory_maps_.emplace(size, std::move(v).value()).first->second;
}

std::string KernelExecutor::verifier_log(std::span<const isa::RawInsn> insns, uint32_t flags,
                                         bool tail_calls) {
  if (log_buf_.empty()) log_buf_.resize(kFirstLogBytes);
  const uint32_t level = (flags & kReasonOnlyLog) ? kLogStatsLevel : 1;
  for (;;) {
    ProgLoad load{insns, tail_calls ? BPF_PROG_TYPE_RAW_TRACEPOINT : BPF_PROG_TYPE_SYSCALL,
                  tail_calls ? 0u : BPF_F_SLEEPABLE, log_buf_, level};
    auto fd = prog_load(load);
    const bool truncated = fd.err == ENOSPC;
    const bool tail_kept = truncated && kernel_log_rotates(release_);
    if (!truncated || tail_kept || log_buf_.size() >= kMaxLogBytes) {
      std::string log(log_buf_.data(), strnlen(log_buf_.data(), log_buf_.size()));
      if (fd.ok()) log += "\n(the load with a log succeeded: the rejection did not reproduce)";
      if (tail_kept) {
        // Before the log, so that its last line stays the verifier's reason.
        log.insert(0, "(log rotated: the kernel kept its last " + std::to_string(log_buf_.size()) +
                          " bytes, which follow)\n");
      } else if (truncated) {
        log += "\n(log truncated at " + std::to_string(log_buf_.size()) + " bytes)";
      }
      return log;
    }
    log_buf_.resize(log_buf_.size() * 2);
  }
}

void KernelExecutor::run_loaded(int prog_fd, const KernelRequest& request, MappedValue* mem,
                                std::span<const uint16_t> regs_valid_by_piece, KernelResponse& out) {
  const std::vector<uint8_t>& memory = request.memory;
  timed(out.phases.prepare_ns, [&] {
    std::memset(regs_.data, 0, kRegsValueSize);
    if (mem != nullptr) std::memcpy(mem->data, memory.data(), memory.size());
  });
  if (auto reset = timed(out.phases.maps_ns, [&] { return maps_.reset(); }); !reset) {
    out.verdict = KernelVerdict::Failed;
    out.log = reset.error().message;
    return;
  }
  auto run = timed(out.phases.full_run_ns, [&] { return prog_test_run(prog_fd); });
  if (!run.ok()) {
    out.verdict = KernelVerdict::Failed;
    out.errno_value = run.err;
    out.log = sys_error("bpf(BPF_PROG_TEST_RUN)", run.err);
    return;
  }
  const uint64_t piece = load_u64(regs_.data, kDoneWord) - static_cast<uint64_t>(kEpilogueDone);
  if (piece >= regs_valid_by_piece.size()) {
    out.verdict = KernelVerdict::Failed;
    out.log = "the test run returned without reaching the epilogue";
    return;
  }
  const uint16_t regs_valid = regs_valid_by_piece[piece];
  out.verdict = KernelVerdict::Accepted;
  out.retval = run.value;
  out.regs_valid = regs_valid;
  for (uint32_t r = 0; r < out.regs.size(); ++r)
    out.regs[r] = (regs_valid & (1u << r)) ? load_u64(regs_.data, r) : 0;
  out.frame_base = load_u64(regs_.data, kFrameBaseWord);
  out.memory_base = mem != nullptr ? load_u64(regs_.data, kMemoryBaseWord) : 0;
  if (mem != nullptr) out.memory.assign(mem->data, mem->data + memory.size());
  auto contents = timed(out.phases.maps_ns, [&] { return maps_.read(); });
  if (!contents) {
    out.verdict = KernelVerdict::Failed;
    out.log = contents.error().message;
    return;
  }
  out.maps = std::move(contents).value();
  out.map_value_bases.assign(request.maps.size(), 0);
  for (uint32_t m = 0; m < request.maps.size(); ++m) {
    if (request.maps[m].type == kMapTypeArray)
      out.map_value_bases[m] = load_u64(regs_.data, kFirstMapBaseWord + m);
  }
}

void KernelExecutor::run_plain(const KernelRequest& request, std::span<const isa::RawInsn> relocated,
                               PlainRun& plain, ExecutorPhases& phases, JitState& jit) {
  if (maps_.has_program_array()) {
    plain.verdict = KernelVerdict::Unsupported;
    plain.log =
        "a program with a program array runs in the full-state wrapper only (a syscall program "
        "must be sleepable, and a sleepable one may not use a program array)";
    return;
  }
  auto prog = timed(phases.plain_load_ns, [&] {
    return prog_load(ProgLoad{relocated, BPF_PROG_TYPE_SYSCALL, BPF_F_SLEEPABLE, {}});
  });
  plain.errno_value = prog.err;
  if (!prog.ok()) {
    if (prog.err == EPERM) {
      plain.verdict = KernelVerdict::Failed;
      plain.log = sys_error("bpf(BPF_PROG_LOAD)", prog.err);
      return;
    }
    plain.verdict = KernelVerdict::Rejected;
    if (request.flags & kWantPlainLog)
      plain.log = timed(phases.log_ns, [&] { return verifier_log(relocated, request.flags); });
    return;
  }
  plain.loaded = true;
  jit = jit_state_of(prog.value.get());
  plain.memory = request.memory;
  if (auto reset = timed(phases.maps_ns, [&] { return maps_.reset(); }); !reset) {
    plain.verdict = KernelVerdict::Failed;
    plain.log = reset.error().message;
    return;
  }
  auto run = timed(phases.plain_run_ns, [&] { return prog_test_run(prog.value.get(), plain.memory); });
  close_timed(prog.value, phases.close_ns);
  if (!run.ok()) {
    plain.verdict = KernelVerdict::Failed;
    plain.errno_value = run.err;
    plain.log = sys_error("bpf(BPF_PROG_TEST_RUN)", run.err);
    plain.memory = request.memory;
    return;
  }
  auto contents = timed(phases.maps_ns, [&] { return maps_.read(); });
  if (!contents) {
    plain.verdict = KernelVerdict::Failed;
    plain.log = contents.error().message;
    return;
  }
  plain.maps = std::move(contents).value();
  plain.verdict = KernelVerdict::Accepted;
  plain.retval = run.value;
}

KernelResponse KernelExecutor::execute(const KernelRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  KernelResponse out;
  out.kernel_release = release_;
  out.memory = request.memory;
  const auto finish = [&](KernelVerdict verdict, std::string log) {
    out.verdict = verdict;
    out.log = std::move(log);
    out.duration_ns = elapsed_ns(start);
    return out;
  };

  if (auto r = jit_.apply(request.flags); !r) {
    out.plain.verdict = KernelVerdict::Failed;
    out.plain.log = r.error().message;
    return finish(KernelVerdict::Failed, r.error().message);
  }
  if (request.memory.size() > UINT32_MAX)
    return finish(KernelVerdict::Unsupported, "the memory is too large");
  const bool tail_calls = std::any_of(request.maps.begin(), request.maps.end(),
                                      [](const KernelMap& m) { return m.type == kMapTypeProgArray; });
  std::vector<ProgramPiece> pieces;
  auto expressible = timed(out.phases.prepare_ns, [&]() -> Result<void> {
    if (auto ok = check_request_maps(request.maps); !ok) return ok;
    if (auto ok = check_expressible(request.program, options_.allow_helper_calls,
                                    static_cast<uint32_t>(request.maps.size()), tail_calls);
        !ok)
      return ok;
    auto cut = cut_into_pieces(request.program, tail_call_target_slots(request.maps));
    if (!cut) return cut.error();
    pieces = std::move(cut).value();
    return {};
  });
  if (!expressible) {
    out.plain.log = expressible.error().message;
    return finish(KernelVerdict::Unsupported, expressible.error().message);
  }
  if (auto acquired = timed(out.phases.maps_ns, [&] { return maps_.acquire(request.maps); }); !acquired) {
    out.plain.verdict = KernelVerdict::Failed;
    out.plain.log = acquired.error().message;
    return finish(KernelVerdict::Failed, acquired.error().message);
  }
  const std::vector<isa::RawInsn> relocated =
      timed(out.phases.prepare_ns, [&] { return relocate_maps(request.program, maps_.fds()); });
  run_plain(request, relocated, out.plain, out.phases, out.jit);
  if (request.flags & kPlainOnly) {
    return finish(KernelVerdict::Unsupported, "the full-state run was not asked for (unmodified run only)");
  }

  const auto size = static_cast<uint32_t>(request.memory.size());
  MappedValue* mem = nullptr;
  if (size > 0) {
    auto m = timed(out.phases.maps_ns, [&] { return memory_map(size); });
    if (!m) return finish(KernelVerdict::Failed, m.error().message);
    mem = *m;
  }
  RewriteInput rewrite_in;
  rewrite_in.program = request.program;
  rewrite_in.regs_map_fd = regs_.fd.get();
  rewrite_in.memory_map_fd = mem != nullptr ? mem->fd.get() : -1;
  rewrite_in.memory_size = size;
  rewrite_in.allow_helper_calls = options_.allow_helper_calls;
  rewrite_in.instrumentation = instrumentation_for_seed(request.instrumentation_seed);
  std::vector<RewriteInput::Map> rewrite_maps;
  for (std::size_t m = 0; m < request.maps.size(); ++m)
    rewrite_maps.push_back(
        {maps_.fds()[m], request.maps[m].type == kMapTypeArray, request.maps[m].max_entries});
  rewrite_in.maps = rewrite_maps;
  rewrite_in.tail_calls = tail_calls;
  // Each piece (program_pieces.hpp; one without tail calls into other
  // slots) is wrapped and loaded; the first is the one the test run enters.
  // The registers compared are those exported by the piece that exited.
  std::vector<Fd> loaded;
  std::vector<KernelMapPool::ProgramAt> programs;
  std::vector<uint16_t> regs_valid;  // by piece
  for (const ProgramPiece& piece : pieces) {
    rewrite_in.program = piece.insns;
    rewrite_in.done_value = kEpilogueDone + static_cast<int32_t>(regs_valid.size());
    const std::string which =
        piece.start == 0 ? "" : "the tail-call target at slot " + std::to_string(piece.start) + ": ";
    auto rewritten = timed(out.phases.prepare_ns, [&] { return rewrite_full_state(rewrite_in); });
    if (!rewritten) return finish(KernelVerdict::Unsupported, which + rewritten.error().message);
    if (piece.start == 0) {
      out.instrumentation = describe(rewritten->instrumentation);
      out.body_offset = rewritten->body_offset();
    }
    std::optional<std::string> reason;
    auto prog = load_full_state(rewritten->insns, request.flags, tail_calls, out.phases, reason);
    if (!prog.ok()) {
      out.errno_value = prog.err;
      if (prog.err == EPERM) {
        return finish(KernelVerdict::Failed, sys_error("bpf(BPF_PROG_LOAD)", prog.err));
      }
      std::string log;
      if (reason) {
        log = std::move(*reason);
      } else if (request.flags & kWantLogOnReject) {
        log = timed(out.phases.log_ns,
                    [&] { return verifier_log(rewritten->insns, request.flags, tail_calls); });
      }
      return finish(KernelVerdict::Rejected, which + log);
    }
    if (piece.start == 0) out.jit = jit_state_of(prog.value.get());
    programs.push_back({piece.start, prog.value.get()});
    regs_valid.push_back(rewritten->regs_valid);
    loaded.push_back(std::move(prog.value));
  }
  if (auto filled = timed(out.phases.maps_ns, [&] { return maps_.fill_program_arrays(programs); }); !filled)
    return finish(KernelVerdict::Failed, filled.error().message);
  run_loaded(programs.front().prog_fd, request, mem, regs_valid, out);
  for (Fd& fd : loaded)
    close_timed(fd, out.phases.close_ns);
  out.duration_ns = elapsed_ns(start);
  return out;
}

SysResult<Fd> KernelExecutor::load_full_state(std::span<const isa::RawInsn> insns, uint32_t flags,
                                              bool tail_calls, ExecutorPhases& phases,
                                              std::optional<std::string>& reason) {
  // With tail calls: a raw tracepoint program, in its own program array
  // (RewriteInput::tail_calls).
  const uint32_t type = tail_calls ? BPF_PROG_TYPE_RAW_TRACEPOINT : BPF_PROG_TYPE_SYSCALL;
  const uint32_t prog_flags = tail_calls ? 0u : BPF_F_SLEEPABLE;
  const bool reason_only = (flags & kWantLogOnReject) && (flags & kReasonOnlyLog);
  if (!reason_only)
    return timed(phases.full_load_ns, [&] { return prog_load(ProgLoad{insns, type, prog_flags, {}}); });
  // A campaign wants only a rejection's reason, so the load itself asks for
  // the verifier's messages at BPF_LOG_STATS: they cost next to nothing on
  // an accepted load (no per-instruction trace, only the closing
  // statistics), and a rejection then needs no second walk of the verifier
  // to say why (under TCG, a second walk cost as much as the first). The
  // log level changes what the verifier prints, never what it decides.
  if (log_buf_.empty()) log_buf_.resize(kFirstLogBytes);
  log_buf_[0] = '\0';
  auto prog = timed(phases.full_load_ns, [&] {
    return prog_load(ProgLoad{insns, type, prog_flags, log_buf_, kLogStatsLevel});
  });
  if (prog.ok() || prog.err == EPERM) return prog;
  const std::size_t length = strnlen(log_buf_.data(), log_buf_.size());
  // ENOSPC: the messages did not fit (verifier_log() grows the buffer).
  // EINVAL with nothing logged: refused before the verifier ran, which
  // could be the log request itself on a kernel without BPF_LOG_STATS, so
  // the verdict is taken again without a log.
  if (prog.err == ENOSPC || (prog.err == EINVAL && length == 0)) {
    return timed(phases.full_load_ns, [&] { return prog_load(ProgLoad{insns, type, prog_flags, {}}); });
  }
  reason = std::string(log_buf_.data(), length);
  return prog;
}

bool kernel_log_rotates(std::string_view release) {
  return kernel_release_at_least(release, 6, 4);
}

Result<void> probe_kernel() {
  auto executor = KernelExecutor::create();
  if (!executor) return executor.error();
  KernelRequest request;
  request.program = {{0xb7, 0, 0, 0, 42}, {0x95, 0, 0, 0, 0}};  // mov r0, 42; exit
  const KernelResponse r = (*executor)->execute(request);
  if (r.verdict == KernelVerdict::Accepted && r.regs[0] == 42 && r.plain.verdict == KernelVerdict::Accepted &&
      r.plain.retval == 42) {
    return {};
  }
  switch (r.verdict) {
    case KernelVerdict::Accepted:
      return make_error(
          "a probe program returned " + std::to_string(r.regs[0]) + " (unmodified: " +
          (r.plain.verdict == KernelVerdict::Accepted ? std::to_string(r.plain.retval) : r.plain.log) +
          ") instead of 42");
    case KernelVerdict::Rejected:
      return make_error("a probe program was rejected (" + errno_name(r.errno_value) + "): " + r.log);
    case KernelVerdict::Unsupported:
    case KernelVerdict::Failed:
      break;
  }
  return make_error(r.log);
}

}  // namespace bpfdiff::oracle::kernel
