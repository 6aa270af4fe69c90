// Loader test object: a map type the VM does not implement (per-CPU array).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} per_cpu SEC(".maps");

SEC("socket")
int uses_per_cpu(void *ctx) {
  __u32 k = 0;
  return bpf_map_lookup_elem(&per_cpu, &k) != 0;
}

char LICENSE[] SEC("license") = "GPL";
