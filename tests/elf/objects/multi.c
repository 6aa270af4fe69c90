// Loader test object: several programs in one section and in others, a
// global and a static subprogram in .text, a function address taken with
// lddw, and data in .data, .bss and .rodata.str1.1.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static volatile __u64 counter = 5;  // .data, reached through the section symbol
__u64 zeroed[2];                    // .bss
const char greeting[] = "hi";       // .rodata

__attribute__((noinline)) int add_one(int x) { return x + 1; }  // global: symbol relocation

static __attribute__((noinline)) int twice(int x) { return add_one(x) * 2; }

static int callback(__u32 index, void *ctx) { return 0; }

SEC("xdp")
int first(struct xdp_md *ctx) {
  return twice(20);  // 42
}

SEC("xdp")
int second(struct xdp_md *ctx) {
  counter += 1;
  zeroed[1] = counter;
  return (int)zeroed[1];  // 6
}

SEC("tc")
int third(void *ctx) {
  return greeting[1] + add_one(0);  // 'i' + 1 = 106
}

SEC("socket")
int loops(void *ctx) {
  bpf_loop(3, callback, 0, 0);
  return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
