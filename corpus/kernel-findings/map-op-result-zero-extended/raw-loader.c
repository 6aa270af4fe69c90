// Raw bpf() reproducer: the upper half of a failed map update's or delete's
// result. A hash map is updated with BPF_EXIST on an absent key (or the key
// deleted), which must return -ENOENT as a 64-bit long (the helpers' contract);
// the program returns r0 >> 32, so retval 0xffffffff is right and 0 means the
// sign was lost. Build: cc -static -O1 -o loader raw-loader.c; run it as a guest's
// only program with scripts/guest-run-binary.sh IMAGE_DIR ./loader.
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char log_buf[1 << 16];

static int bpf(int cmd, union bpf_attr* attr) {
  return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int run(int prog_type, int flags, int map_fd, int delete, const char* what) {
  struct bpf_insn prog[] = {
      {.code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = 10, .off = -8, .imm = 0},
      {.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd},
      {0},
      {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 2, .src_reg = 10},
      {.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = -8},
      {.code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = 10, .off = -24, .imm = 0},
      {.code = BPF_ST | BPF_MEM | BPF_DW, .dst_reg = 10, .off = -16, .imm = 0},
      {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 3, .src_reg = 10},
      {.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 3, .imm = -24},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 4, .imm = BPF_EXIST},
      {.code = BPF_JMP | BPF_CALL, .imm = delete ? BPF_FUNC_map_delete_elem : BPF_FUNC_map_update_elem},
      {.code = BPF_ALU64 | BPF_RSH | BPF_K, .dst_reg = 0, .imm = 32},
      {.code = BPF_JMP | BPF_EXIT},
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = prog_type;
  attr.prog_flags = flags;
  attr.insns = (uint64_t)(uintptr_t)prog;
  attr.insn_cnt = sizeof prog / sizeof prog[0];
  attr.license = (uint64_t)(uintptr_t) "GPL";
  attr.log_buf = (uint64_t)(uintptr_t)log_buf;
  attr.log_size = sizeof log_buf;
  attr.log_level = 1;
  const int fd = bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) {
    printf("LOADER: %s rejected\n%s\n", what, log_buf);
    return 2;
  }
  unsigned char data[64] = {0};
  memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = (uint32_t)fd;
  if (prog_type == BPF_PROG_TYPE_SYSCALL) {
    attr.test.ctx_in = (uint64_t)(uintptr_t)data;
    attr.test.ctx_size_in = 8;
  } else {
    attr.test.data_in = (uint64_t)(uintptr_t)data;
    attr.test.data_size_in = sizeof data;
  }
  if (bpf(BPF_PROG_TEST_RUN, &attr) < 0) {
    printf("LOADER: %s test run failed\n", what);
    return 3;
  }
  printf("LOADER: %s: r0 >> 32 = 0x%x (%s)\n", what, attr.test.retval,
         attr.test.retval == 0xffffffffu ? "sign kept, right" : "sign lost");
  return 0;
}

int main(void) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_HASH;
  attr.key_size = 4;
  attr.value_size = 16;
  attr.max_entries = 3;
  const int map_fd = bpf(BPF_MAP_CREATE, &attr);
  if (map_fd < 0) {
    perror("LOADER: map create");
    return 1;
  }
  run(BPF_PROG_TYPE_SYSCALL, BPF_F_SLEEPABLE, map_fd, 0, "update(BPF_EXIST) of an absent key, syscall program");
  run(BPF_PROG_TYPE_SOCKET_FILTER, 0, map_fd, 0, "update(BPF_EXIST) of an absent key, socket filter");
  run(BPF_PROG_TYPE_SOCKET_FILTER, 0, map_fd, 1, "delete of an absent key, socket filter");
  return 0;
}
