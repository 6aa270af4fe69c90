// Raw bpf() reproducer: does the verifier accept an exit instruction whose
// offset field (reserved: RFC 9669 says unused fields are zero) is not zero?
// Loads `r0 = 0; exit` with the exit's off = 1024 (and, for comparison, 0) as
// a socket filter and prints the verdict; a conforming verifier rejects the
// first. Build: cc -static -O1 -o loader raw-loader.c; run it on the host or
// as a guest's only program with scripts/guest-run-binary.sh IMAGE_DIR ./loader.
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char log_buf[1 << 16];

static void load(int16_t exit_off) {
  struct bpf_insn prog[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT, .off = exit_off},
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = (uint64_t)(uintptr_t)prog;
  attr.insn_cnt = 2;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  attr.log_buf = (uint64_t)(uintptr_t)log_buf;
  attr.log_size = sizeof log_buf;
  attr.log_level = 1;
  log_buf[0] = 0;
  const int fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  printf("LOADER: exit with off %d: %s\n", exit_off, fd >= 0 ? "accepted" : "rejected");
  if (fd < 0) printf("%s\n", log_buf);
  if (fd >= 0) close(fd);
}

int main(void) {
  load(1024);
  load(0);
  return 0;
}
