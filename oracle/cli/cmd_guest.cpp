// `bpfdiff guest build|status|boot|run|measure|start|stop`: the QEMU guests
// of the kernel oracle (oracle/kernel/guest/).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oracle/cli/commands.hpp"
#include "oracle/cli/exit_codes.hpp"
#include "oracle/engine.hpp"
#include "oracle/kernel/guest/daemon_control.hpp"
#include "oracle/kernel/guest/guest_service.hpp"
#include "oracle/kernel/guest/pool_daemon.hpp"
#include "oracle/kernel_outcome.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/input.hpp"

#ifndef BPFDIFF_SOURCE_DIR
#error "BPFDIFF_SOURCE_DIR must name the source tree (set by CMake)"
#endif

namespace bpfdiff::cli {
namespace {

namespace guest = oracle::kernel::guest;
using oracle::kernel::KernelRequest;
using oracle::kernel::KernelResponse;
using oracle::kernel::KernelVerdict;
using Ms = std::chrono::duration<double, std::milli>;

struct GuestCommandOptions {
  // build
  std::string kernel;
  bool backports = false;
  std::string source;  // 6.1 or 6.12: a kernel built from Debian's source
  std::vector<std::string> patches;
  bool kcov = false;
  bool kasan = false;
  bool no_current = false;
  // pool
  std::string image_dir = guest::default_image_dir();
  std::size_t guests = 1;
  std::string accel = "auto";
  std::string findings_dir = guest::options_from_environment().findings_dir;
  // run
  std::string input;
  std::string mem_hex;
  std::string mem_file;
  bool interp = false;
  bool harden = false;
  uint64_t repeat = 1;
  bool json = false;
  // measure
  uint64_t requests = 2000;
  bool faults = false;
};

Result<guest::GuestServiceOptions> service_options(const GuestCommandOptions& o) {
  guest::GuestServiceOptions s = guest::options_from_environment();
  s.image_dir = o.image_dir;
  s.guests = o.guests;
  s.findings_dir = o.findings_dir;
  auto accel = guest::parse_accel(o.accel);
  if (!accel) return accel.error();
  s.accel = *accel;
  if (o.faults) s.extra_cmdline = guest::kFaultsAllowedArg;
  return s;
}

Result<std::unique_ptr<guest::GuestService>> start_service(const GuestCommandOptions& o, bool quiet) {
  auto options = service_options(o);
  if (!options) return options.error();
  if (!quiet) std::cerr << "booting " << o.guests << " guest(s) from " << o.image_dir << " ...\n";
  auto service = guest::GuestService::start(*options);
  if (service && !quiet && !(*service)->notes().empty()) std::cerr << "note: " << (*service)->notes() << "\n";
  return service;
}

int run_build(const GuestCommandOptions& o) {
  // argv, not a shell line: patch paths may hold any character.
  std::vector<std::string> args = {"bash", std::string(BPFDIFF_SOURCE_DIR) + "/scripts/build-guest.sh"};
  if (!o.kernel.empty()) args.insert(args.end(), {"--kernel", o.kernel});
  if (o.backports) args.emplace_back("--backports");
  if (!o.source.empty()) args.insert(args.end(), {"--source", o.source});
  for (const std::string& patch : o.patches)
    args.insert(args.end(), {"--patch", patch});
  if (o.kcov) args.emplace_back("--kcov");
  if (o.kasan) args.emplace_back("--kasan");
  if (o.no_current) args.emplace_back("--no-current");
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return kExitRunFailed;
  if (pid == 0) {
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status)) return kExitRunFailed;
  if (WEXITSTATUS(status) == 2) return kExitLoadFailed;  // the script refused its arguments
  return WEXITSTATUS(status) == 0 ? kExitOk : kExitRunFailed;
}

int run_status(const GuestCommandOptions& o) {
  auto image = guest::find_guest_image(o.image_dir);
  auto qemu = guest::probe_qemu("qemu-system-x86_64");
  nlohmann::ordered_json j;
  j["image_dir"] = o.image_dir;
  j["image"] = image ? image->release : "missing: " + image.error().message;
  j["qemu"] = qemu ? "ok" : qemu.error().message;
  j["kvm_device"] = guest::kvm_device_usable();
  j["engines"] = image && qemu ? "available" : "unavailable";
  const std::string run_dir = guest::daemon_run_dir(o.image_dir);
  const guest::DaemonProbe probe = guest::probe_daemon(run_dir, std::chrono::milliseconds(2000));
  switch (probe.state) {
    case guest::DaemonProbe::State::Absent:
      j["daemon"] = "not running";
      break;
    case guest::DaemonProbe::State::Stale:
      j["daemon"] = "stale (" + probe.why + "); `bpfdiff guest stop` cleans up";
      break;
    case guest::DaemonProbe::State::Running:
      j["daemon"] = "running";
      j["daemon_pid"] = probe.info.pid;
      j["daemon_guests"] = probe.info.guests;
      j["daemon_kernel"] = probe.hello.kernel_release;
      j["daemon_accel"] = probe.info.accel;
      j["daemon_uptime_s"] = static_cast<int64_t>(std::time(nullptr)) - probe.info.started_unix;
      j["daemon_socket"] = probe.info.socket;
      break;
  }
  if (o.json) {
    std::cout << j.dump() << "\n";
  } else {
    for (const auto& [key, value] : j.items())
      std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
  return image && qemu ? kExitOk : kExitRunFailed;
}

int run_boot(const GuestCommandOptions& o) {
  const auto began = std::chrono::steady_clock::now();
  auto service = start_service(o, o.json);
  if (!service) {
    std::cerr << "error: " << service.error().message << "\n";
    return kExitRunFailed;
  }
  const guest::PoolStats s = (*service)->pool().stats();
  nlohmann::ordered_json j;
  j["kernel_release"] = (*service)->pool().kernel_release();
  j["vmm"] = (*service)->pool().describe();
  j["guests"] = (*service)->pool().live_guests();
  j["boot_ms"] = s.last_boot_ms;
  j["snapshot_ms"] = s.snapshot_ms;
  j["total_ms"] = Ms(std::chrono::steady_clock::now() - began).count();
  j["accel"] = (*service)->accel_used();
  j["notes"] = (*service)->notes();
  j["agent_notes"] = s.agent_notes;
  if (o.json) {
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "kernel " << j["kernel_release"].get<std::string>() << " (" << j["vmm"].get<std::string>()
              << "): " << j["guests"].dump() << " guest(s) up; boot to first reply " << s.last_boot_ms
              << " ms, snapshot " << s.snapshot_ms << " ms\n";
    if (s.snapshot_ms == 0) std::cout << "no snapshot: guests will be recovered by cold boots\n";
    if (!s.agent_notes.empty()) std::cout << "agent notes:\n" << s.agent_notes;
  }
  return kExitOk;
}

Result<KernelRequest> request_from(const GuestCommandOptions& o) {
  auto input = load_program_file(o.input, oracle::default_helpers());
  if (!input) return input.error();
  if (input->program.entry != 0)
    return make_error("the kernel runs programs from their first slot; this one starts elsewhere");
  KernelRequest r;
  r.program = input->program.slots;
  if (!o.mem_hex.empty()) {
    auto bytes = parse_hex_arg(o.mem_hex);
    if (!bytes) return make_error("--mem: " + bytes.error().message);
    r.memory = *bytes;
  } else if (!o.mem_file.empty()) {
    auto bytes = read_file(o.mem_file);
    if (!bytes) return bytes.error();
    r.memory = *bytes;
  } else if (input->data) {
    r.memory = input->data->memory;
  }
  if (o.interp) r.flags |= oracle::kernel::kJitDisable;
  if (o.harden) r.flags |= oracle::kernel::kJitHarden;
  return r;
}

nlohmann::ordered_json response_json(const KernelResponse& r) {
  nlohmann::ordered_json j;
  j["verdict"] = oracle::to_string(r.verdict);
  j["errno"] = r.errno_value;
  j["r0"] = hex_u64(r.regs[0]);
  nlohmann::ordered_json regs = nlohmann::ordered_json::array();
  for (uint64_t v : r.regs)
    regs.push_back(hex_u64(v));
  j["regs"] = regs;
  j["memory"] = hex_spaced(r.memory);
  j["retval"] = r.retval;
  j["kernel_release"] = r.kernel_release;
  j["log"] = r.log;
  return j;
}

int run_run(const GuestCommandOptions& o) {
  auto request = request_from(o);
  if (!request) {
    std::cerr << "error: " << request.error().message << "\n";
    return kExitLoadFailed;
  }
  auto service = start_service(o, true);
  if (!service) {
    std::cerr << "error: " << service.error().message << "\n";
    return kExitRunFailed;
  }
  KernelResponse last;
  const auto began = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < o.repeat; ++i)
    last = (*service)->pool().execute(*request);
  const double ms = Ms(std::chrono::steady_clock::now() - began).count();
  if (o.json) {
    nlohmann::ordered_json j = response_json(last);
    j["runs"] = o.repeat;
    j["programs_per_s"] = o.repeat / (ms / 1000.0);
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "kernel " << last.kernel_release << ": " << oracle::to_string(last.verdict);
    if (last.errno_value != 0) std::cout << " (errno " << last.errno_value << ")";
    std::cout << "\n";
    if (last.verdict == KernelVerdict::Accepted) {
      for (std::size_t i = 0; i < last.regs.size(); ++i)
        std::cout << "r" << i << " = " << hex_u64(last.regs[i]) << "\n";
      if (!last.memory.empty()) std::cout << "memory: " << hex_spaced(last.memory) << "\n";
    }
    if (!last.log.empty()) std::cout << last.log << (last.log.back() == '\n' ? "" : "\n");
    if (o.repeat > 1) std::cerr << o.repeat << " runs: " << o.repeat / (ms / 1000.0) << " programs/s\n";
  }
  return last.verdict == KernelVerdict::Accepted ? kExitOk : kExitRunFailed;
}

void print_running(const guest::DaemonProbe& probe, const char* what) {
  std::cout << what << ": pid " << probe.info.pid << ", " << probe.info.guests << " guest(s), kernel "
            << probe.hello.kernel_release << " (" << probe.info.accel << "), boot " << probe.info.boot_ms
            << " ms, socket " << probe.info.socket << "\n";
}

// `guest serve`: the daemon itself (started by `guest start`, in the
// foreground when run by hand). Owns one GuestService, so snapshot restore,
// panic/hang detection and findings work as in a single process.
int run_serve(const GuestCommandOptions& o) {
  // Before any thread exists, so that only the signal thread receives them.
  guest::block_termination_signals();
  const std::string run_dir = guest::daemon_run_dir(o.image_dir);
  if (auto claimed = guest::claim_daemon_run_dir(run_dir); !claimed) {
    std::cerr << "error: " << claimed.error().message << "\n";
    return kExitRunFailed;
  }
  auto service = start_service(o, false);
  if (!service) {
    std::cerr << "error: " << service.error().message << "\n";
    return kExitRunFailed;
  }
  auto served = guest::serve_pool_daemon(**service, run_dir, [](const guest::DaemonInfo& info) {
    std::cerr << "serving " << info.guests << " guest(s) of kernel " << info.kernel_release << " on "
              << info.socket << std::endl;
  });
  if (!served) {
    std::cerr << "error: " << served.error().message << "\n";
    return kExitRunFailed;
  }
  std::cerr << "stopped after " << served->connections << " connection(s), " << served->stats.requests
            << " request(s), " << served->stats.failures << " guest failure(s)" << std::endl;
  return kExitOk;
}

// `guest start`: `guest serve` in the background, detached (own session,
// output to <run>/daemon.log); returns once it answers a hello.
int run_start(const GuestCommandOptions& o) {
  const std::string run_dir = guest::daemon_run_dir(o.image_dir);
  guest::DaemonProbe probe = guest::probe_daemon(run_dir, std::chrono::milliseconds(2000));
  if (probe.state == guest::DaemonProbe::State::Running) {
    print_running(probe, "already running");
    return kExitOk;
  }
  if (probe.state == guest::DaemonProbe::State::Stale) {
    auto cleaned = guest::stop_daemon(run_dir, std::chrono::milliseconds(30'000));
    std::cerr << "note: " << (cleaned ? *cleaned : cleaned.error().message) << "\n";
    if (!cleaned) return kExitRunFailed;
  }
  auto options = service_options(o);
  if (!options) {
    std::cerr << "error: " << options.error().message << "\n";
    return kExitLoadFailed;
  }
  if (auto available = guest::guest_engines_available(*options); !available) {
    std::cerr << "error: " << available.error().message << "\n";
    return kExitRunFailed;
  }
  const std::string image = std::filesystem::absolute(o.image_dir).string();
  const std::string findings = std::filesystem::absolute(o.findings_dir).string();
  const std::string guests = std::to_string(o.guests);
  const std::vector<std::string> args = {"bpfdiff", "guest",   "serve", "--image",    image,   "--guests",
                                         guests,    "--accel", o.accel, "--findings", findings};
  const auto began = std::chrono::steady_clock::now();
  std::cerr << "starting a pool of " << o.guests << " guest(s) from " << o.image_dir
            << " (log: " << guest::daemon_log_path(run_dir) << ") ...\n";
  // Generous: N guests boot in parallel on few cores, each with its own slack.
  auto started = guest::spawn_pool_daemon(args, run_dir, std::chrono::minutes(10));
  if (!started) {
    const std::string& why = started.error().message;
    std::cerr << "error: " << why << (why.empty() || why.back() != '\n' ? "\n" : "");
    return kExitRunFailed;
  }
  probe = *started;
  print_running(probe, "started");
  std::cout << "ready after " << Ms(std::chrono::steady_clock::now() - began).count() << " ms\n";
  return kExitOk;
}

int run_stop(const GuestCommandOptions& o) {
  auto stopped = guest::stop_daemon(guest::daemon_run_dir(o.image_dir), std::chrono::milliseconds(60'000));
  if (!stopped) {
    std::cerr << "error: " << stopped.error().message << "\n";
    return kExitRunFailed;
  }
  std::cout << *stopped << "\n";
  return kExitOk;
}

int run_measure(GuestCommandOptions o) {
  o.guests = 1;
  o.faults = true;  // the recovery measurement panics the guest on purpose
  auto service = start_service(o, o.json);
  if (!service) {
    std::cerr << "error: " << service.error().message << "\n";
    return kExitRunFailed;
  }
  guest::GuestPool& pool = (*service)->pool();
  nlohmann::ordered_json j;
  j["kernel_release"] = pool.kernel_release();
  j["vmm"] = pool.describe();
  j["boot_ms"] = pool.stats().last_boot_ms;
  j["snapshot_ms"] = pool.stats().snapshot_ms;
  const guest::PoolMeasurement m = guest::measure_pool(pool, o.requests);
  j["jit_programs_per_s"] = m.jit_programs_per_s;
  j["interp_programs_per_s"] = m.interp_programs_per_s;
  j["panic_recovery_ms"] = m.panic_recovery_ms;
  j["restore_ms"] = m.restore_ms;
  j["panic_finding"] = m.panic_finding ? *m.panic_finding : "error: " + m.panic_finding.error().message;
  if (m.unexpected) {
    j["error"] = std::string(oracle::to_string(m.unexpected->verdict)) + ", r0 " +
                 hex_u64(m.unexpected->regs[0]) + ": " + m.unexpected->log;
  }
  if (o.json) {
    std::cout << j.dump() << "\n";
  } else {
    for (const auto& [key, value] : j.items())
      std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
  return !m.unexpected && m.panic_finding ? kExitOk : kExitRunFailed;
}

void add_pool_options(CLI::App* cmd, GuestCommandOptions& o) {
  cmd->add_option("--image", o.image_dir, "guest image directory (env BPFDIFF_GUEST_DIR)")
      ->capture_default_str();
  cmd->add_option("--accel", o.accel, "auto: KVM when a probe boot works, else TCG; tcg; kvm")
      ->check(CLI::IsMember({"auto", "tcg", "kvm"}))
      ->capture_default_str();
  cmd->add_option("--findings", o.findings_dir, "where guest panics, oopses and hangs are written")
      ->capture_default_str();
}

}  // namespace

void add_guest_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<GuestCommandOptions>();
  CLI::App* cmd =
      app.add_subcommand("guest", "Build, boot, serve and use the QEMU guests of the kernel oracle.");
  cmd->require_subcommand(1);
  cmd->footer(
      "The kernel-qemu and kernel-qemu-interp engines run programs in these guests: a Debian cloud\n"
      "kernel under QEMU whose /init is bpfdiff-agent. `guest build` makes the image once\n"
      "(scripts/build-guest.sh); the engines then boot guests on demand. A guest that panics,\n"
      "oopses or hangs is written to --findings first, then restored from its snapshot.\n"
      "Environment: BPFDIFF_GUEST_DIR, BPFDIFF_GUEST_POOL (guests per process),\n"
      "BPFDIFF_GUEST_ACCEL (auto|tcg|kvm), BPFDIFF_FINDINGS_DIR, BPFDIFF_GUEST_DAEMON=0 (ignore a\n"
      "pool daemon: `guest start` keeps booted guests for later commands; `guest stop`).");

  CLI::App* build = cmd->add_subcommand("build", "Build (or reuse) the guest image: scripts/build-guest.sh.");
  build->add_option("--kernel", o->kernel,
                    "Debian kernel image package (default: the pinned 6.1 cloud kernel)");
  build->add_flag("--backports", o->backports,
                  "take the package from bookworm-backports (private apt config)");
  build
      ->add_option(
          "--source", o->source,
          "build the kernel from Debian's linux-source-SERIES (6.1 or 6.12) instead of a binary package")
      ->check(CLI::IsMember({"6.1", "6.12"}));
  build->add_option("--patch", o->patches,
                    "with --source: a patch (-p1) to apply first; repeatable, in order");
  build->add_flag("--kcov", o->kcov, "with --source: KCOV in the kernel configuration");
  build->add_flag("--kasan", o->kasan, "with --source: generic KASAN in the kernel configuration");
  build->add_flag("--no-current", o->no_current,
                  "leave build/guest/current alone (use the printed image dir)");
  build->callback([o, &exit_code] { exit_code = run_build(*o); });

  CLI::App* status =
      cmd->add_subcommand("status", "Whether the guest engines can run here (image, QEMU, KVM).");
  status->add_option("--image", o->image_dir, "guest image directory")->capture_default_str();
  status->add_flag("--json", o->json, "print one JSON object");
  status->callback([o, &exit_code] { exit_code = run_status(*o); });

  CLI::App* boot =
      cmd->add_subcommand("boot", "Boot guests (with their snapshots), report the times, stop them.");
  add_pool_options(boot, *o);
  boot->add_option("--guests", o->guests, "guests to boot in parallel")
      ->check(kAtLeastOne)
      ->capture_default_str();
  boot->add_flag("--json", o->json, "print one JSON object");
  boot->callback([o, &exit_code] { exit_code = run_boot(*o); });

  CLI::App* run =
      cmd->add_subcommand("run", "Run one program in a guest kernel; print its verdict and state.");
  add_pool_options(run, *o);
  run->add_option("FILE", o->input, "program: assembly, raw bytecode or a .data test")->required();
  auto* mem = run->add_option("--mem", o->mem_hex, "input memory as hex");
  auto* mem_file = run->add_option("--mem-file", o->mem_file, "input memory: the raw bytes of this file");
  mem->excludes(mem_file);
  mem_file->excludes(mem);
  run->add_flag("--interp", o->interp, "the kernel interpreter (bpf_jit_enable=0) instead of its JIT");
  run->add_flag("--harden", o->harden, "bpf_jit_harden=2 (constant blinding)");
  run->add_option("--repeat", o->repeat, "run N times and report programs per second")->check(kAtLeastOne);
  run->add_flag("--json", o->json, "print one JSON object");
  run->callback([o, &exit_code] { exit_code = run_run(*o); });

  CLI::App* measure = cmd->add_subcommand(
      "measure", "Boot time, snapshot time, programs/s (kernel JIT and interpreter), panic recovery time.");
  add_pool_options(measure, *o);
  measure->add_option("--requests", o->requests, "requests per throughput measurement")
      ->check(kAtLeastOne)
      ->capture_default_str();
  measure->add_flag("--json", o->json, "print one JSON object");
  measure->callback([o, &exit_code] { exit_code = run_measure(*o); });

  CLI::App* start = cmd->add_subcommand(
      "start",
      "Start a guest pool daemon: later kernel-qemu engines use its booted guests instead of booting.");
  add_pool_options(start, *o);
  start->add_option("--guests", o->guests, "guests in the daemon's pool")
      ->check(kAtLeastOne)
      ->capture_default_str();
  start->callback([o, &exit_code] { exit_code = run_start(*o); });

  CLI::App* stop = cmd->add_subcommand("stop", "Stop the guest pool daemon (and clean up after a dead one).");
  stop->add_option("--image", o->image_dir, "guest image directory")->capture_default_str();
  stop->callback([o, &exit_code] { exit_code = run_stop(*o); });

  // What `start` runs in the background; by hand it serves in the foreground.
  CLI::App* serve =
      cmd->add_subcommand("serve", "Run the guest pool daemon in the foreground (see `guest start`).");
  add_pool_options(serve, *o);
  serve->add_option("--guests", o->guests, "guests in the pool")->check(kAtLeastOne)->capture_default_str();
  serve->callback([o, &exit_code] { exit_code = run_serve(*o); });
}

}  // namespace bpfdiff::cli
