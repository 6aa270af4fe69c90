#include "oracle/kernel/guest/guest_machine.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>

namespace bpfdiff::oracle::kernel::guest {
namespace {

using Ms = std::chrono::duration<double, std::milli>;

// Console output kept per failure: the end matters most (the panic itself).
constexpr uint64_t kMaxConsoleBytes = 256 * 1024;

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

}  // namespace

const char* guest_failure_name(GuestFailureKind kind) {
  switch (kind) {
    case GuestFailureKind::Panic:
      return "panic";
    case GuestFailureKind::Oops:
      return "oops";
    case GuestFailureKind::Hang:
      return "hang";
    case GuestFailureKind::Died:
      return "died";
    case GuestFailureKind::Protocol:
      return "protocol";
    case GuestFailureKind::Abandoned:
      return "abandoned";
  }
  return "unknown";
}

std::string guest_failure_label(const GuestFailure& failure) {
  if (failure.kind == GuestFailureKind::Oops && failure.report)
    return kernel_report_name(failure.report->kind);
  return guest_failure_name(failure.kind);
}

GuestMachine::GuestMachine(const Vmm& vmm, GuestPaths paths, GuestTimeouts timeouts)
    : vmm_(vmm), paths_(std::move(paths)), timeouts_(timeouts) {
  std::error_code ec;  // a missing directory shows up as the VMM's start error
  std::filesystem::create_directories(paths_.dir, ec);
}

GuestMachine::~GuestMachine() {
  stop();
}

void GuestMachine::stop() {
  client_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  process_.kill();
}

std::string GuestMachine::take_console() {
  const uint64_t end = file_size(paths_.console_log());
  if (end < console_offset_) console_offset_ = 0;  // the file was replaced
  uint64_t from = console_offset_;
  if (end - from > kMaxConsoleBytes) from = end - kMaxConsoleBytes;
  std::string text(end - from, '\0');
  std::ifstream in(paths_.console_log(), std::ios::binary);
  in.seekg(static_cast<std::streamoff>(from));
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  console_offset_ = from + text.size();
  return text;
}

Result<void> GuestMachine::start(bool from_snapshot) {
  stop();
  // Stale sockets from a killed VMM would make the new one fail to bind.
  ::unlink(paths_.agent_socket().c_str());
  ::unlink(paths_.monitor_socket().c_str());
  console_offset_ = file_size(paths_.console_log());
  const auto began = Clock::now();
  const auto deadline = began + (from_snapshot ? timeouts_.restore : timeouts_.boot);
  const auto argv = from_snapshot ? vmm_.restore_command(paths_) : vmm_.boot_command(paths_);
  if (auto spawned = process_.spawn(argv, paths_.vmm_log()); !spawned) return spawned.error();
  auto fd = connect_unix(paths_.agent_socket(), deadline, process_);
  auto fail = [&](const std::string& why) -> Result<void> {
    stop();
    std::string console = take_console();
    if (console.size() > 4000) console = "..." + console.substr(console.size() - 4000);
    return make_error(std::string(from_snapshot ? "restore" : "boot") + " failed: " + why + " (" +
                      vmm_.describe() + "; VMM log " + paths_.vmm_log() + ")" +
                      (console.empty() ? std::string() : "\nconsole:\n" + console));
  };
  if (!fd) return fail(fd.error().message);
  fd_ = *fd;
  client_ = std::make_unique<AgentClient>(fd_);
  auto hello = client_->hello(deadline);
  if (!hello.ok()) return fail(std::string("no hello from the agent: ") + hello.error);
  hello_ = std::move(hello.value);
  const double ms = Ms(Clock::now() - began).count();
  if (from_snapshot) {
    ++stats_.restores;
    stats_.last_restore_ms = ms;
  } else {
    ++stats_.cold_boots;
    stats_.last_boot_ms = ms;
  }
  // Boot messages are not any request's fault; scanning starts from here.
  console_offset_ = file_size(paths_.console_log());
  return {};
}

Result<void> GuestMachine::boot() {
  has_snapshot_ = false;
  if (auto started = start(false); !started) return started;
  if (vmm_.restore_command(paths_).empty()) return {};
  const auto began = Clock::now();
  auto saved = vmm_.save_snapshot(paths_, process_, began + timeouts_.snapshot);
  if (saved) {
    // The saved guest must still answer, or the snapshot saved a broken one.
    auto hello = client_->hello(Clock::now() + timeouts_.restore);
    if (!hello.ok()) return make_error("the guest stopped answering after its snapshot: " + hello.error);
    has_snapshot_ = true;
    stats_.snapshot_ms = Ms(Clock::now() - began).count();
  } else {
    // Not fatal: recovery falls back to cold boots.
    hello_.agent_notes += "snapshot unavailable: " + saved.error().message + "\n";
  }
  return {};
}

Result<void> GuestMachine::recover() {
  if (has_snapshot_) {
    if (auto restored = start(true); restored) return restored;
    has_snapshot_ = false;  // a snapshot that fails once is not trusted again
  }
  return boot();
}

GuestFailure GuestMachine::classify(const std::string& error, ReplyStatus status) {
  GuestFailure f;
  f.detail = error;
  // A panicking guest closes the channel a moment before QEMU exits, and a
  // hung one may be busy dying: give the VMM a moment to say which.
  const auto grace = status == ReplyStatus::Timeout || status == ReplyStatus::Abandoned
                         ? std::chrono::milliseconds(200)
                         : std::chrono::milliseconds(2000);
  process_.wait_exit(grace);
  f.exit_status = process_.exit_status();
  f.console = take_console();
  f.report = scan_kernel_log(f.console);
  if (f.exit_status && vmm_.exit_means_panic(*f.exit_status)) {
    f.kind = GuestFailureKind::Panic;
  } else if (f.console.find("Kernel panic") != std::string::npos) {
    f.kind = GuestFailureKind::Panic;
  } else if (f.report) {
    f.kind = GuestFailureKind::Oops;
  } else if (status == ReplyStatus::Abandoned && !f.exit_status) {
    f.kind = GuestFailureKind::Abandoned;
  } else if (status == ReplyStatus::Timeout && !f.exit_status) {
    f.kind = GuestFailureKind::Hang;
  } else if (status == ReplyStatus::ProtocolError || status == ReplyStatus::AgentError) {
    f.kind = GuestFailureKind::Protocol;
  } else {
    f.kind = GuestFailureKind::Died;
  }
  if (f.exit_status) f.detail += " (VMM exit status " + std::to_string(*f.exit_status) + ")";
  ++(f.kind == GuestFailureKind::Abandoned ? stats_.abandoned : stats_.failures);
  stop();
  return f;
}

std::variant<KernelResponse, GuestFailure> GuestMachine::execute(const KernelRequest& request,
                                                                 Clock::time_point abandon_at) {
  if (!client_)
    return GuestFailure{
        GuestFailureKind::Died, "the guest is not running", "", std::nullopt, std::nullopt, std::nullopt};
  const auto now = Clock::now();
  auto reply = client_->execute(request, now + timeouts_.request, now + timeouts_.request_limit, abandon_at);
  if (!reply.ok()) return classify(reply.error, reply.status);
  ++stats_.requests;
  // An oops inside BPF code, a WARN or a sanitizer report may leave the
  // agent able to answer; the kernel log says otherwise, and a kernel that
  // reported itself broken is no longer trustworthy: the program that was
  // running is the finding, and the guest is restored.
  std::string console = take_console();
  if (auto report = scan_kernel_log(console)) {
    GuestFailure f{GuestFailureKind::Oops, "kernel log: " + report->title, std::move(console),
                   std::nullopt,           std::move(reply.value),         std::move(report)};
    ++stats_.failures;
    stop();
    return f;
  }
  return std::move(reply.value);
}

std::optional<std::pair<std::size_t, GuestFailure>> GuestMachine::execute_batch(
    std::span<const KernelRequest> requests, Clock::time_point abandon_at,
    const std::function<void(std::size_t, KernelResponse&&)>& on_response) {
  using Failure = std::pair<std::size_t, GuestFailure>;
  if (requests.empty()) return std::nullopt;
  if (!client_)
    return Failure{0, GuestFailure{GuestFailureKind::Died, "the guest is not running", "", std::nullopt,
                                   std::nullopt, std::nullopt}};
  std::optional<Failure> failure;
  // The latest response is handed over only once the next one arrived or
  // the batch ended: a report the console shows after the batch, and no
  // request's kernel messages did, is the last request's (as in execute()).
  std::optional<std::pair<std::size_t, KernelResponse>> held;
  const auto hand_over_held = [&] {
    if (held) on_response(held->first, std::move(held->second));
    held.reset();
  };
  const PipelineTimes times{timeouts_.request, timeouts_.request_limit, abandon_at};
  std::size_t next = 0;
  while (next < requests.size() && !failure) {
    // Until the agent has shown that it reads the kernel's messages, one
    // request at a time, and the console says what each one caused.
    const bool pipelined = agent_reads_kernel_messages_;
    const std::size_t base = next;
    const auto part = pipelined ? requests.subspan(base) : requests.subspan(base, 1);
    const PipelineEnd end = client_->execute_pipelined(
        part, pipelined ? kPipelineWindow : 1, times, [&](std::size_t i, KernelResponse&& response) {
          ++stats_.requests;
          hand_over_held();
          std::optional<KernelReport> report;
          std::string console;
          if (response.kernel_messages_read) {
            agent_reads_kernel_messages_ = true;
            report = scan_kernel_log(response.kernel_messages);
            if (report) console = take_console();
          } else {
            // Exact only with nothing else in flight, which is why such an
            // agent is not pipelined.
            console = take_console();
            report = scan_kernel_log(console);
          }
          if (report) {
            failure = Failure{base + i, GuestFailure{GuestFailureKind::Oops, "kernel log: " + report->title,
                                                     std::move(console), std::nullopt, std::move(response),
                                                     std::move(report)}};
            ++stats_.failures;
            stop();
            return false;
          }
          held.emplace(base + i, std::move(response));
          return true;
        });
    next = base + end.answered;
    if (!failure && end.status != ReplyStatus::Ok) failure = Failure{next, classify(end.error, end.status)};
  }
  if (!failure && held) {
    // Nothing is in flight now.
    std::string console = take_console();
    if (auto report = scan_kernel_log(console)) {
      failure =
          Failure{held->first,
                  GuestFailure{GuestFailureKind::Oops,
                               "kernel log: " + report->title +
                                   " (on the console after the batch, in no request's kernel messages)",
                               std::move(console), std::nullopt, std::move(held->second), std::move(report)}};
      held.reset();
      ++stats_.failures;
      stop();
    }
  }
  hand_over_held();
  return failure;
}

std::variant<bool, GuestFailure> GuestMachine::inject_fault(FaultKind kind) {
  if (!client_)
    return GuestFailure{
        GuestFailureKind::Died, "the guest is not running", "", std::nullopt, std::nullopt, std::nullopt};
  auto ack = client_->inject_fault(kind, Clock::now() + timeouts_.request);
  if (!ack.ok()) {
    if (ack.status == ReplyStatus::AgentError) return false;  // refused: faults not allowed in this guest
    return classify(ack.error, ack.status);
  }
  // The fault is under way: what follows is what a failing request sees.
  auto hello = client_->hello(Clock::now() +
                              (kind == FaultKind::Hang ? std::chrono::milliseconds(500) : timeouts_.request));
  if (hello.ok()) return true;  // survived (should not happen)
  return classify(hello.error, hello.status);
}

}  // namespace bpfdiff::oracle::kernel::guest
