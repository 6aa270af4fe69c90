// Loader test object in the shape bpf_conformance's ELF runner produces: no
// program sections, a global `main` in .text that is not the first function,
// and a subprogram it calls.
__attribute__((noinline)) int triple(int x) { return x * 3; }

int main(void) {
  volatile int fourteen = 14;  // keeps clang from folding the call away
  return triple(fourteen);     // 42
}
