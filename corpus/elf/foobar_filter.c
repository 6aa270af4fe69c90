// Drops packets that contain "foobar" anywhere (the string-matching filter
// of the seed documents, written for XDP with direct packet access). The
// pattern lives in .rodata (volatile, so the compiler reads it there instead
// of folding it into immediates); an array map counts passed (key 0) and
// dropped (key 1) packets.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_SCAN 1500

const volatile char pattern[] = "foobar";
#define PATTERN_LEN (sizeof(pattern) - 1)

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __u64);
} verdicts SEC(".maps");

static __attribute__((noinline)) int matches_at(const char *p, const char *end) {
  if (p + PATTERN_LEN > end) return 0;
  for (int j = 0; j < PATTERN_LEN; j++)
    if (p[j] != pattern[j]) return 0;
  return 1;
}

static void count(__u32 key) {
  __u64 *n = bpf_map_lookup_elem(&verdicts, &key);
  if (n) __sync_fetch_and_add(n, 1);
}

SEC("xdp")
int drop_foobar(struct xdp_md *ctx) {
  const char *data = (const char *)(long)ctx->data;
  const char *end = (const char *)(long)ctx->data_end;
  for (int i = 0; i < MAX_SCAN; i++) {
    if (data + i >= end) break;
    if (matches_at(data + i, end)) {
      count(1);
      return XDP_DROP;
    }
  }
  count(0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
