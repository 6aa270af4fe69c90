#include "oracle/kernel/bpf_syscall.hpp"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace bpfdiff::oracle::kernel {
namespace {

// The kernel-internal ENOTSUPP leaks out of bpf() (e.g. for unsupported
// instructions on some JITs); libc has no name for it.
constexpr int kEnotsupp = 524;

// bpf_attr is a union of per-command structs; the kernel rejects a command
// whose unused tail is not zero, so every call starts from a zeroed attr.
long sys_bpf(int cmd, bpf_attr& attr) {
  return syscall(__NR_bpf, cmd, &attr, sizeof attr);
}

uint64_t ptr_to_u64(const void* p) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p));
}

// The uapi layout of one instruction: 8 bytes, registers in two nibbles.
bpf_insn to_uapi(const isa::RawInsn& raw) {
  bpf_insn out{};
  out.code = raw.opcode;
  out.dst_reg = raw.dst & 0x0f;
  out.src_reg = raw.src & 0x0f;
  out.off = raw.off;
  out.imm = raw.imm;
  return out;
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) close(fd_);
}

SysResult<Fd> create_mmapable_array(uint32_t value_size, const char* name) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = sizeof(uint32_t);
  attr.value_size = value_size;
  attr.max_entries = 1;
  attr.map_flags = BPF_F_MMAPABLE;
  std::strncpy(attr.map_name, name, sizeof attr.map_name - 1);
  const long fd = sys_bpf(BPF_MAP_CREATE, attr);
  if (fd < 0) return {Fd(), errno};
  return {Fd(static_cast<int>(fd)), 0};
}

SysResult<Fd> map_create(const MapCreate& create) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_type = create.map_type;
  attr.key_size = create.key_size;
  attr.value_size = create.value_size;
  attr.max_entries = create.max_entries;
  attr.map_flags = create.map_flags;
  std::strncpy(attr.map_name, create.name, sizeof attr.map_name - 1);
  const long fd = sys_bpf(BPF_MAP_CREATE, attr);
  if (fd < 0) return {Fd(), errno};
  return {Fd(static_cast<int>(fd)), 0};
}

namespace {

SysResult<int> map_elem_command(int cmd, int map_fd, const void* key, const void* value, uint64_t flags) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = static_cast<uint32_t>(map_fd);
  attr.key = ptr_to_u64(key);
  attr.value = ptr_to_u64(value);  // next_key shares this field
  attr.flags = flags;
  if (sys_bpf(cmd, attr) < 0) return {0, errno};
  return {0, 0};
}

}  // namespace

SysResult<int> map_update(int map_fd, const void* key, const void* value, uint64_t flags) {
  return map_elem_command(BPF_MAP_UPDATE_ELEM, map_fd, key, value, flags);
}

SysResult<int> map_lookup(int map_fd, const void* key, void* value) {
  return map_elem_command(BPF_MAP_LOOKUP_ELEM, map_fd, key, value, 0);
}

SysResult<int> map_delete(int map_fd, const void* key) {
  return map_elem_command(BPF_MAP_DELETE_ELEM, map_fd, key, nullptr, 0);
}

SysResult<int> map_get_next_key(int map_fd, const void* key, void* next_key) {
  return map_elem_command(BPF_MAP_GET_NEXT_KEY, map_fd, key, next_key, 0);
}

SysResult<int> map_freeze(int map_fd) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = static_cast<uint32_t>(map_fd);
  if (sys_bpf(BPF_MAP_FREEZE, attr) < 0) return {0, errno};
  return {0, 0};
}

SysResult<Fd> prog_load(const ProgLoad& load) {
  std::vector<bpf_insn> insns;
  insns.reserve(load.insns.size());
  for (const isa::RawInsn& raw : load.insns)
    insns.push_back(to_uapi(raw));
  static const char kLicense[] = "GPL";

  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = load.prog_type;
  attr.prog_flags = load.prog_flags;
  attr.insns = ptr_to_u64(insns.data());
  attr.insn_cnt = static_cast<uint32_t>(insns.size());
  attr.license = ptr_to_u64(kLicense);
  if (!load.log_buf.empty()) {
    load.log_buf[0] = '\0';
    attr.log_level = load.log_level;
    attr.log_buf = ptr_to_u64(load.log_buf.data());
    attr.log_size = static_cast<uint32_t>(load.log_buf.size());
  }
  const long fd = sys_bpf(BPF_PROG_LOAD, attr);
  if (fd < 0) return {Fd(), errno};
  return {Fd(static_cast<int>(fd)), 0};
}

SysResult<bool> prog_jited(int prog_fd) {
  bpf_prog_info info;
  std::memset(&info, 0, sizeof info);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = static_cast<uint32_t>(prog_fd);
  attr.info.info_len = sizeof info;
  attr.info.info = reinterpret_cast<uint64_t>(&info);
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, attr) < 0) return {false, errno};
  return {info.jited_prog_len > 0, 0};
}

SysResult<uint32_t> prog_test_run(int prog_fd) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = static_cast<uint32_t>(prog_fd);
  if (sys_bpf(BPF_PROG_TEST_RUN, attr) < 0) return {0, errno};
  return {attr.test.retval, 0};
}

SysResult<uint32_t> prog_test_run(int prog_fd, std::span<uint8_t> ctx) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = static_cast<uint32_t>(prog_fd);
  if (!ctx.empty()) {
    attr.test.ctx_in = reinterpret_cast<uint64_t>(ctx.data());
    attr.test.ctx_size_in = static_cast<uint32_t>(ctx.size());
  }
  if (sys_bpf(BPF_PROG_TEST_RUN, attr) < 0) return {0, errno};
  return {attr.test.retval, 0};
}

std::string errno_name(int err) {
  switch (err) {
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case E2BIG:
      return "E2BIG";
    case EBADF:
      return "EBADF";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EACCES:
      return "EACCES";
    case EFAULT:
      return "EFAULT";
    case EBUSY:
      return "EBUSY";
    case EINVAL:
      return "EINVAL";
    case ENOSPC:
      return "ENOSPC";
    case ERANGE:
      return "ERANGE";
    case ENOSYS:
      return "ENOSYS";
    case ELOOP:
      return "ELOOP";
    case EOPNOTSUPP:
      return "EOPNOTSUPP";
    case kEnotsupp:
      return "ENOTSUPP";
    default:
      return "errno " + std::to_string(err);
  }
}

}  // namespace bpfdiff::oracle::kernel
