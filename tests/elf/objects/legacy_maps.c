// Loader test object: maps defined the old way, as struct bpf_map_def
// records in a "maps" section (libbpf 1.x no longer declares the struct).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct bpf_map_def SEC("maps") table = {
    .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 4, .map_flags = 0};
struct bpf_map_def SEC("maps") lookup = {
    .type = BPF_MAP_TYPE_HASH, .key_size = 8, .value_size = 16, .max_entries = 32, .map_flags = 0};

SEC("socket")
int use_maps(void *ctx) {
  __u32 k = 1;
  __u64 *v = bpf_map_lookup_elem(&table, &k);
  if (!v) return 0;
  *v += 7;
  __u64 hk = 3;
  return bpf_map_lookup_elem(&lookup, &hk) ? 2 : (int)*v;  // 7: lookup misses
}

char LICENSE[] SEC("license") = "GPL";
