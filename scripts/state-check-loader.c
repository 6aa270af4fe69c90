/* A standalone raw bpf() loader for the verifier-state oracle's cases, no
 * bpfdiff code involved: reads a raw fuzz input (u32 program length |
 * program | memory), creates an array map whose one value holds the
 * memory, loads the program behind the same prologue `bpfdiff kernel
 * check-states` uses (r1 = &value, r2 = length, r0 and r3..r9 = 0) as a
 * sleepable BPF_PROG_TYPE_SYSCALL program with a level-2 log, prints the
 * log, runs the program once and prints its return value and the memory.
 *
 *   cc -O1 -o state-check-loader scripts/state-check-loader.c
 *   ./state-check-loader CASE.bin [minimal]   (minimal: only r1 and r2 set)
 */
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr) { return syscall(__NR_bpf, cmd, attr, sizeof *attr); }

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s CASE.bin [minimal]\n", argv[0]); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 2; }
  static uint8_t data[1 << 20];
  size_t n = fread(data, 1, sizeof data, f);
  fclose(f);
  if (n < 4) return 2;
  uint32_t plen; memcpy(&plen, data, 4);
  if (plen > n - 4) plen = (uint32_t)(n - 4);
  plen -= plen % 8;
  const uint8_t *prog = data + 4, *mem = data + 4 + plen;
  uint32_t msize = (uint32_t)(n - 4 - plen);
  int minimal = argc > 2 && strcmp(argv[2], "minimal") == 0;

  union bpf_attr a;
  int map = -1;
  if (msize > 0) {
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY; a.key_size = 4; a.value_size = msize; a.max_entries = 1;
    map = (int)sys_bpf(BPF_MAP_CREATE, &a);
    if (map < 0) { perror("BPF_MAP_CREATE"); return 1; }
    uint32_t key = 0;
    memset(&a, 0, sizeof a);
    a.map_fd = map; a.key = (uintptr_t)&key; a.value = (uintptr_t)mem;
    if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) { perror("BPF_MAP_UPDATE_ELEM"); return 1; }
  }
  static struct bpf_insn insns[1 << 16];
  int k = 0;
  if (map >= 0) {
    insns[k++] = (struct bpf_insn){.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .src_reg = BPF_PSEUDO_MAP_VALUE, .imm = map};
    insns[k++] = (struct bpf_insn){0};
  } else {
    insns[k++] = (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 1};
  }
  insns[k++] = (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 2, .imm = (int32_t)msize};
  if (!minimal) {
    int zero[] = {0, 3, 4, 5, 6, 7, 8, 9};
    for (int i = 0; i < 8; i++) insns[k++] = (struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = zero[i]};
  }
  printf("prologue: %d instructions (log pc = program pc + %d)\n", k, k);
  memcpy(&insns[k], prog, plen);
  k += plen / 8;

  static char log[1 << 26];
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_SYSCALL; a.prog_flags = BPF_F_SLEEPABLE;
  a.insns = (uintptr_t)insns; a.insn_cnt = k; a.license = (uintptr_t)"GPL";
  a.log_level = 2; a.log_buf = (uintptr_t)log; a.log_size = sizeof log;
  int prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
  printf("%s\n", log);
  if (prog_fd < 0) { perror("BPF_PROG_LOAD"); return 1; }
  memset(&a, 0, sizeof a);
  a.test.prog_fd = prog_fd;
  if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0) { perror("BPF_PROG_TEST_RUN"); return 1; }
  printf("retval %#x\n", a.test.retval);
  if (map >= 0) {
    static uint8_t out[1 << 16];
    uint32_t key = 0;
    union bpf_attr l; memset(&l, 0, sizeof l);
    l.map_fd = map; l.key = (uintptr_t)&key; l.value = (uintptr_t)out;
    if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &l) == 0) {
      printf("memory:");
      for (uint32_t i = 0; i < msize; i++) printf(" %02x", out[i]);
      printf("\n");
    }
  }
  return 0;
}
