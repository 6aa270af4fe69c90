#include "tests/bench/kernel_runner.hpp"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "vm/isa/encode.hpp"

namespace bpfdiff::bench {
namespace {

long sys_bpf(int cmd, bpf_attr& attr) {
  return syscall(__NR_bpf, cmd, &attr, sizeof(attr));
}

uint64_t address_of(const void* p) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p));
}

std::string errno_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err) + " (errno " + std::to_string(err) + ")";
}

constexpr char kLicense[] = "GPL";
constexpr std::size_t kLogTailBytes = 4096;

// Returns the fd, or -errno.
int prog_load(const std::vector<uint8_t>& bytes, const std::string& name, std::vector<char>* log) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = address_of(bytes.data());
  attr.insn_cnt = static_cast<uint32_t>(bytes.size() / isa::kSlotBytes);
  attr.license = address_of(kLicense);
  std::memcpy(attr.prog_name, name.data(), std::min<std::size_t>(name.size(), BPF_OBJ_NAME_LEN - 1));
  if (log != nullptr) {
    attr.log_level = 1;
    attr.log_buf = address_of(log->data());
    attr.log_size = static_cast<uint32_t>(log->size());
  }
  const long fd = sys_bpf(BPF_PROG_LOAD, attr);
  return fd >= 0 ? static_cast<int>(fd) : -errno;
}

}  // namespace

KernelProgram& KernelProgram::operator=(KernelProgram&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

KernelProgram::~KernelProgram() {
  if (fd_ >= 0) close(fd_);
}

Result<KernelProgram> KernelProgram::load(std::span<const isa::RawInsn> slots, const std::string& name) {
  const std::vector<uint8_t> bytes = isa::encode_slots(slots);
  const int fd = prog_load(bytes, name, nullptr);
  if (fd >= 0) return KernelProgram(fd);
  const int err = -fd;
  if (err != EINVAL && err != EACCES && err != E2BIG)
    return make_error(errno_text("bpf(BPF_PROG_LOAD)", err));
  // Rejected by the verifier: load again only to get the log. Since 6.4 the
  // log rotates, so a log that overflows still ends with the reason.
  std::vector<char> log(16u << 20, '\0');
  const int again = prog_load(bytes, name, &log);
  if (again >= 0) return KernelProgram(again);  // accepted the second time (should not happen)
  std::string text(log.data(), strnlen(log.data(), log.size()));
  if (text.size() > kLogTailBytes) text = "..." + text.substr(text.size() - kLogTailBytes);
  return make_error(errno_text("verifier rejected the program", err) + "\n" + text);
}

Result<KernelRun> KernelProgram::test_run(std::span<const uint8_t> data, uint32_t repeat) const {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.test.prog_fd = static_cast<uint32_t>(fd_);
  attr.test.data_in = address_of(data.data());
  attr.test.data_size_in = static_cast<uint32_t>(data.size());
  attr.test.repeat = repeat;
  if (sys_bpf(BPF_PROG_TEST_RUN, attr) != 0) return make_error(errno_text("bpf(BPF_PROG_TEST_RUN)", errno));
  return KernelRun{attr.test.retval, attr.test.duration};
}

const std::string& KernelProgram::unavailable_reason() {
  static const std::string reason = [] {
    std::vector<isa::RawInsn> trivial{isa::encode(isa::Form::mov_imm, 0, 0, 0, 7),
                                      isa::encode(isa::Form::exit)};
    auto program = load(trivial, "bpfdiff_probe");
    if (!program) return program.error().message;
    const std::array<uint8_t, 64> packet{};
    auto run = program->test_run(packet, 1);
    if (!run) return run.error().message;
    if (run->retval != 7) return "test run of a trivial program returned " + std::to_string(run->retval);
    return std::string();
  }();
  return reason;
}

}  // namespace bpfdiff::bench
