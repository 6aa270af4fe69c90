#pragma once
// The few bpf(2) commands the kernel oracle needs, as raw syscalls on the
// uapi header (linux-libc-dev) rather than through libbpf: the executor is
// linked statically into the guest agent, and these few commands are all
// it uses. Failures are reported as the errno value, never thrown.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "vm/isa/raw.hpp"

namespace bpfdiff::oracle::kernel {

// An owned file descriptor (a map or a program).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// The outcome of one syscall: a descriptor or value when err == 0, else the errno.
template <class T>
struct SysResult {
  T value{};
  int err = 0;
  bool ok() const { return err == 0; }
};

// A single-entry BPF_MAP_TYPE_ARRAY with BPF_F_MMAPABLE, so its one value is
// read and written through mmap with no syscall per request.
SysResult<Fd> create_mmapable_array(uint32_t value_size, const char* name);

// The map commands the executor's map pool needs (kernel_maps.hpp).
struct MapCreate {
  uint32_t map_type = 0;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;
  uint32_t map_flags = 0;
  const char* name = "";
};
SysResult<Fd> map_create(const MapCreate& create);
// BPF_MAP_UPDATE_ELEM / LOOKUP_ELEM / DELETE_ELEM with the map's own sizes.
SysResult<int> map_update(int map_fd, const void* key, const void* value, uint64_t flags);
SysResult<int> map_lookup(int map_fd, const void* key, void* value);
SysResult<int> map_delete(int map_fd, const void* key);
// The key after `key`, or the first key when `key` is null; ENOENT past the last.
SysResult<int> map_get_next_key(int map_fd, const void* key, void* next_key);
// BPF_MAP_FREEZE (5.2): user space may no longer write the map.
SysResult<int> map_freeze(int map_fd);
// Whether the kernel JIT-compiled the loaded program (BPF_OBJ_GET_INFO_BY_FD:
// a non-zero jited_prog_len), or runs it in its interpreter.
SysResult<bool> prog_jited(int prog_fd);

struct ProgLoad {
  std::span<const isa::RawInsn> insns;
  uint32_t prog_type = 0;
  uint32_t prog_flags = 0;
  // A verifier log is requested when log_buf is not empty, at log_level.
  std::span<char> log_buf;
  uint32_t log_level = 1;
};
SysResult<Fd> prog_load(const ProgLoad& load);

// BPF_PROG_TEST_RUN with no context, data or repeat: what a
// BPF_PROG_TYPE_SYSCALL program accepts. `value` is the program's 32-bit retval.
SysResult<uint32_t> prog_test_run(int prog_fd);
// The same with a context: the kernel copies `ctx` in, hands the program a
// pointer to its copy in r1, and copies it back over `ctx` after the run.
// This is how a BPF_PROG_TYPE_SYSCALL program, unmodified, sees our memory.
SysResult<uint32_t> prog_test_run(int prog_fd, std::span<uint8_t> ctx);

// "EACCES", "EINVAL", ... (or the number when unknown), for messages and
// rejection reasons that must not depend on the C library's wording.
std::string errno_name(int err);

}  // namespace bpfdiff::oracle::kernel
