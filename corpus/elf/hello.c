// The trace_printk hello of the seed documents (a kprobe that prints a
// greeting built on the stack and returns 0), plus a second print with an
// argument through libbpf's bpf_printk, whose format lands in .rodata.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("kprobe/sys_clone")
int hello(void *ctx) {
  char msg[] = "hello from C\n";
  bpf_trace_printk(msg, sizeof(msg));
  bpf_printk("answer=%d\n", 42);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
