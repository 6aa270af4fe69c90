// A per-key counter in a hash map: each run counts the packet's first byte
// (the key) and returns how many times that key has been seen, including
// this run. An empty packet is not counted and returns 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int count_first_byte(struct xdp_md *ctx) {
  const __u8 *data = (const __u8 *)(long)ctx->data;
  const __u8 *end = (const __u8 *)(long)ctx->data_end;
  if (data + 1 > end) return 0;
  __u32 key = data[0];
  __u64 *seen = bpf_map_lookup_elem(&counts, &key);
  if (seen) {
    *seen += 1;
    return (int)*seen;
  }
  __u64 first = 1;
  bpf_map_update_elem(&counts, &key, &first, BPF_ANY);
  return 1;
}

char LICENSE[] SEC("license") = "GPL";
