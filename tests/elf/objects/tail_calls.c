// Loader test object: a program array initialised statically with the
// object's own programs (`.values`), and tail calls through it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int stage_two(struct xdp_md *ctx) { return 22; }

SEC("xdp")
int stage_one(struct xdp_md *ctx);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __uint(key_size, sizeof(__u32));
  __array(values, int(void *));
} jump_table SEC(".maps") = {
    .values = {[1] = (void *)&stage_one, [2] = (void *)&stage_two},
};

SEC("xdp")
int stage_one(struct xdp_md *ctx) {
  bpf_tail_call(ctx, &jump_table, 2);
  return 11;  // only when the tail call fails
}

SEC("xdp")
int entry(struct xdp_md *ctx) {
  bpf_tail_call(ctx, &jump_table, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
