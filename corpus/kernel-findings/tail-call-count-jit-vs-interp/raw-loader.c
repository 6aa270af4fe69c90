// Raw bpf() reproducer: how many tail calls one run may take when some of
// them are attempts into an empty program-array slot. The program counts its
// runs in an array map, tail-calls index 1 of its program array (empty: the
// call falls through) and then index 0 (itself). The limit is 33 tail calls
// per run (MAX_TAIL_CALL_CNT). The kernel's interpreter counts every attempt
// that passes the index check, the empty one too, so the program runs 17
// times (33 attempts, 16 of them taken); the x86-64 JIT counts only the
// attempts into a populated slot, so it runs 34 times. The loader runs the
// program under the JIT and, where the kernel has one, under the interpreter
// (bpf_jit_enable = 0), and prints both counts. Build: cc -static -O1 -o
// loader raw-loader.c; run it as a guest's only program with
// scripts/guest-run-binary.sh IMAGE_DIR ./loader (it mounts /proc itself). On
// a host as root it runs the JIT only, unless given --interpreter-too (which
// flips the host's bpf_jit_enable for a moment, and back).
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char log_buf[1 << 16];

static int bpf(int cmd, union bpf_attr* attr) {
  return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int map_create(int type, unsigned value_size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = type;
  attr.key_size = 4;
  attr.value_size = value_size;
  attr.max_entries = 2;
  return bpf(BPF_MAP_CREATE, &attr);
}

static int map_update(int fd, uint32_t key, const void* value) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)fd;
  attr.key = (uint64_t)(uintptr_t)&key;
  attr.value = (uint64_t)(uintptr_t)value;
  return bpf(BPF_MAP_UPDATE_ELEM, &attr);
}

static int jit_sysctl(const char* value) {
  FILE* f = fopen("/proc/sys/net/core/bpf_jit_enable", value ? "w" : "r");
  if (!f) return -1;
  int old = -1;
  if (value)
    fputs(value, f);
  else if (fscanf(f, "%d", &old) != 1)
    old = -1;
  return fclose(f) == 0 ? (value ? 0 : old) : -1;
}

// Loads the program afresh (the JIT setting applies at load) with maps of
// its own (a program array takes only programs JITed as its first one was),
// puts it at index 0 of its program array, runs it once and returns the
// run count, or -1.
static long runs(const char* what) {
  const int counter_fd = map_create(BPF_MAP_TYPE_ARRAY, 8);
  const int progs_fd = map_create(BPF_MAP_TYPE_PROG_ARRAY, 4);
  if (counter_fd < 0 || progs_fd < 0) {
    printf("LOADER: %s: map create failed: %s\n", what, strerror(errno));
    return -1;
  }
  struct bpf_insn prog[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 6, .src_reg = 1},  // r6 = ctx
      {.code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = 10, .off = -4, .imm = 0},
      {.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_FD, .imm = counter_fd},
      {0},
      {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 2, .src_reg = 10},
      {.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = -4},
      {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem},
      {.code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = 0, .off = 12, .imm = 0},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 1, .imm = 1},
      {.code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = 0, .src_reg = 1, .imm = BPF_ADD},  // runs += 1
      // bpf_tail_call(ctx, progs, 1): index 1 is empty, the call falls through
      {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 1, .src_reg = 6},
      {.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 2, .src_reg = BPF_PSEUDO_MAP_FD, .imm = progs_fd},
      {0},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3, .imm = 1},
      {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call},
      // bpf_tail_call(ctx, progs, 0): the program itself
      {.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 1, .src_reg = 6},
      {.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 2, .src_reg = BPF_PSEUDO_MAP_FD, .imm = progs_fd},
      {0},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3, .imm = 0},
      {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT},
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
  attr.insns = (uint64_t)(uintptr_t)prog;
  attr.insn_cnt = sizeof prog / sizeof prog[0];
  attr.license = (uint64_t)(uintptr_t) "GPL";
  attr.log_buf = (uint64_t)(uintptr_t)log_buf;
  attr.log_size = sizeof log_buf;
  attr.log_level = 1;
  const int fd = bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) {
    printf("LOADER: %s: rejected (%s)\n%s\n", what, strerror(errno), log_buf);
    return -1;
  }
  const uint64_t zero = 0;
  if (map_update(counter_fd, 0, &zero) < 0 || map_update(progs_fd, 0, &fd) < 0) {
    printf("LOADER: %s: map update failed: %s\n", what, strerror(errno));
    return -1;
  }
  memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = (uint32_t)fd;
  if (bpf(BPF_PROG_TEST_RUN, &attr) < 0) {
    printf("LOADER: %s: test run failed: %s\n", what, strerror(errno));
    return -1;
  }
  uint64_t count = 0;
  uint32_t key = 0;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)counter_fd;
  attr.key = (uint64_t)(uintptr_t)&key;
  attr.value = (uint64_t)(uintptr_t)&count;
  if (bpf(BPF_MAP_LOOKUP_ELEM, &attr) < 0) return -1;
  const uint32_t slot = 0;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = (uint32_t)progs_fd;
  attr.key = (uint64_t)(uintptr_t)&slot;
  bpf(BPF_MAP_DELETE_ELEM, &attr);  // the array holds the program: let both go
  close(fd);
  close(progs_fd);
  close(counter_fd);
  return (long)count;
}

int main(int argc, char** argv) {
  const int guest = getpid() == 1;
  if (guest) {  // a guest's only program: nothing is mounted
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
  }
  const int jit_was = jit_sysctl(NULL);
  printf("LOADER: bpf_jit_enable = %d\n", jit_was);
  const long jit = runs("JIT");
  printf("LOADER: JIT: %ld runs (%s)\n", jit,
         jit == 17 ? "empty-slot attempts counted" : jit == 34 ? "only taken tail calls counted" : "?");
  if (!guest && !(argc > 1 && strcmp(argv[1], "--interpreter-too") == 0)) return 0;
  if (jit_sysctl("0") != 0) {
    printf("LOADER: interpreter: bpf_jit_enable cannot be set to 0 (%s)\n", strerror(errno));
    return 0;
  }
  const long interp = runs("interpreter");
  printf("LOADER: interpreter: %ld runs (%s)\n", interp,
         interp == 17 ? "empty-slot attempts counted" : interp == 34 ? "only taken tail calls counted" : "?");
  if (jit_was >= 0) {
    char old[16];
    snprintf(old, sizeof old, "%d", jit_was);
    jit_sysctl(old);
  }
  if (jit >= 0 && interp >= 0)
    printf("LOADER: %s\n", jit == interp ? "JIT and interpreter agree" : "JIT and interpreter DIFFER");
  return 0;
}
