// A loop-heavy checksum: the CRC-32 (IEEE 802.3, as zlib's crc32) of the
// whole packet, computed bit by bit: eight shift-and-xor steps per byte.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_BYTES 4096

SEC("xdp")
int crc32_packet(struct xdp_md *ctx) {
  const __u8 *data = (const __u8 *)(long)ctx->data;
  const __u8 *end = (const __u8 *)(long)ctx->data_end;
  __u32 crc = 0xffffffff;
  for (int i = 0; i < MAX_BYTES; i++) {
    if (data + i + 1 > end) break;
    crc ^= data[i];
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (int)~crc;
}

char LICENSE[] SEC("license") = "GPL";
