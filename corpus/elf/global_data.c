// Global data and a bpf-to-bpf call: a scaling table in .rodata, a running
// total in .data (initialised), a run counter in .bss (zeroed), and a
// subprogram in .text that the program calls. Each run adds
// scale[i] * (i + offset) for i in 0..3 to the total and returns it:
// with offset 2 that is 1*2 + 2*3 + 3*4 + 4*5 = 40, plus the initial 100.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 scale[4] = {1, 2, 3, 4};
__u64 total = 100;
__u32 offset = 2;
__u32 runs;

static __attribute__((noinline)) __u64 weighted(__u32 i) {
  return (__u64)scale[i & 3] * (i + offset);
}

SEC("socket")
int sum_weights(void *ctx) {
  for (__u32 i = 0; i < 4; i++) total += weighted(i);
  runs++;
  return (int)total;
}

char LICENSE[] SEC("license") = "GPL";
