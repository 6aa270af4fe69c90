// Loader test object: a kconfig extern, which only a kernel loader can fill.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;

SEC("socket")
int reads_kernel_version(void *ctx) { return LINUX_KERNEL_VERSION; }

char LICENSE[] SEC("license") = "GPL";
