// The trace_printk hello of the seed documents (a kprobe that prints a
// greeting built on the stack and returns 0), plus two prints through
// libbpf's bpf_printk, whose formats land in .rodata and whose %s argument
// is a string literal in .rodata.str1.1: three global-data relocations with
// addends (the formats and the string sit after one another).
// Prints "hello from C", "answer=42" and "hello, world", one per line.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static const char *const who = "world";

SEC("kprobe/sys_clone")
int hello(void *ctx) {
  char msg[] = "hello from C\n";
  bpf_trace_printk(msg, sizeof(msg));
  bpf_printk("answer=%d\n", 42);
  bpf_printk("hello, %s\n", who);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
