// An XDP packet filter: parses Ethernet, IPv4 (with options) and TCP, and
// drops TCP segments to port 8080. Everything else passes, including
// packets too short to parse (a filter should not drop what it does not
// understand).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define BLOCKED_PORT 8080

SEC("xdp")
int block_port(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_PASS;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;

  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_PASS;
  if (ip->protocol != IPPROTO_TCP) return XDP_PASS;
  __u32 ip_len = ip->ihl * 4;
  if (ip_len < sizeof(*ip)) return XDP_PASS;

  struct tcphdr *tcp = (void *)ip + ip_len;
  if ((void *)(tcp + 1) > data_end) return XDP_PASS;
  if (tcp->dest == bpf_htons(BLOCKED_PORT)) return XDP_DROP;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
