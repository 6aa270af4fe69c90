// A stand-in for QEMU in the pool tests: listens on the agent socket like
// QEMU's chardev, serves the agent loop with a trivial executor, and acts out
// the guest failures the pool must survive.
//   fake_vmm --socket S --console C [--restore SNAPSHOT] [--fail-boot]
// Requests whose first instruction has imm 0x7a4e1c (see pool_test.cpp)
// panic the "kernel": a panic line on the console and exit status 1, as QEMU
// with pvpanic does; imm 0x4a46 makes it hang (the whole process stops,
// heartbeats too); imm 0xb5b5 keeps it busy for good while the agent's
// heartbeats go on (a verifier walking to its complexity limit); imm 0x0095
// prints an oops and answers; imm 0x9a27 writes half a frame and exits
// (status 3: died, no panic). Faults (FaultKind) are always allowed.
// Whatever the fake kernel prints goes to the agent's kernel messages too
// (as /dev/kmsg does in a real guest), unless --no-kmsg.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "oracle/kernel/guest/agent.hpp"

using namespace bpfdiff::oracle::kernel;
using namespace bpfdiff::oracle::kernel::guest;

namespace {

std::string console_path;
int connection_fd = -1;
// The fake /dev/kmsg: what was printed since the agent last read it. The
// executor runs on the agent's request thread, which also reads it.
bool kmsg_enabled = false;
std::string kmsg;

void console(const std::string& line) {
  std::ofstream(console_path, std::ios::app) << line << "\n";
  if (kmsg_enabled) kmsg += line + "\n";
}

// A reply cut off mid-header, then the "guest" is gone.
[[noreturn]] void die_mid_reply() {
  const std::vector<uint8_t> frame = encode_frame(MessageType::Response, 1, std::vector<uint8_t>(64, 0));
  const ssize_t written = ::write(connection_fd, frame.data(), kHeaderBytes / 2);
  (void)written;
  std::_Exit(3);
}

[[noreturn]] void panic(const char* why) {
  console(std::string("Kernel panic - not syncing: ") + why);
  std::_Exit(1);
}

// Every thread stops, as in a wedged guest: no heartbeat leaves it.
[[noreturn]] void hang() {
  ::raise(SIGSTOP);
  for (;;)
    ::pause();
}

[[noreturn]] void busy() {
  for (;;)
    std::this_thread::sleep_for(std::chrono::hours(1));
}

KernelResponse execute(const KernelRequest& request) {
  const int32_t imm = request.program.empty() ? 0 : request.program[0].imm;
  if (imm == 0x7a4e1c) panic("fake panic");
  if (imm == 0x4a46) hang();
  if (imm == 0xb5b5) busy();
  if (imm == 0x9a27) die_mid_reply();
  if (imm == 0x0095) console("Oops: general protection fault in fake_bpf_prog");
  // A WARN and a KASAN report: the kernel goes on and the agent answers.
  if (imm == 0x5741) {
    console("[    3.141592] ------------[ cut here ]------------");
    console("[    3.141593] WARNING: CPU: 0 PID: 1 at kernel/bpf/verifier.c:18987 do_check+0x1e/0x20");
    console("[    3.141594] Call Trace:");
  }
  if (imm == 0x4b41) {
    console("[    2.718281] BUG: KASAN: slab-out-of-bounds in fake_bpf_helper+0x10/0x20");
    console("[    2.718282] Read of size 8 at addr ffff888003c4e000 by task init/1");
  }
  KernelResponse r;
  r.verdict = KernelVerdict::Accepted;
  r.regs[0] = request.program.size();
  r.memory = request.memory;
  r.kernel_release = "fake-1.0";
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path, snapshot;
  bool fail_boot = false;
  bool with_kmsg = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--socket" && i + 1 < argc)
      socket_path = argv[++i];
    else if (a == "--console" && i + 1 < argc)
      console_path = argv[++i];
    else if (a == "--restore" && i + 1 < argc)
      snapshot = argv[++i];
    else if (a == "--fail-boot")
      fail_boot = true;
    else if (a == "--no-kmsg")
      with_kmsg = false;
  }
  if (!snapshot.empty() && ::access(snapshot.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "fake_vmm: cannot read snapshot %s\n", snapshot.c_str());
    return 2;
  }
  console(snapshot.empty() ? "fake kernel booting" : "fake kernel restored");
  if (fail_boot) panic("boot failure");
  const int server = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  ::unlink(socket_path.c_str());
  if (::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(server, 1) != 0) {
    std::perror("fake_vmm: bind");
    return 2;
  }
  AgentConfig config;
  config.hello.kernel_release = "fake-1.0";
  // Well within the pool tests' 500 ms request silence.
  config.heartbeat = std::chrono::milliseconds(100);
  config.on_fault = [](FaultKind kind) {
    if (kind == FaultKind::Panic) panic("sysrq triggered crash");
    hang();
  };
  if (with_kmsg) {
    // Boot messages are skipped, as the real agent's reader does.
    kmsg_enabled = true;
    config.kernel_messages = []() -> std::optional<std::string> { return std::exchange(kmsg, {}); };
  }
  // Like QEMU's server chardev: one connection at a time, reconnects accepted.
  for (;;) {
    const int fd = ::accept(server, nullptr, nullptr);
    if (fd < 0) continue;
    connection_fd = fd;
    serve(fd, config, execute);
    ::close(fd);
  }
}
