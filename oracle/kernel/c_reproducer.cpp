#include "oracle/kernel/c_reproducer.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "oracle/kernel/program_pieces.hpp"

namespace bpfdiff::oracle::kernel {
namespace {

// Stand-ins for the two maps' fds in the wrapper's lddw instructions; the
// reproducer replaces them with the fds it creates.
constexpr int kRegsPlaceholder = 1000001;
constexpr int kMemoryPlaceholder = 1000002;
// The program's own maps: map i is kMapPlaceholder + i until the
// reproducer knows its fd.
constexpr int kMapPlaceholder = 1000100;

std::string hex64(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64 "ULL", v);
  return buf;
}

std::string insn_line(const isa::RawInsn& i) {
  char buf[128];
  std::snprintf(buf, sizeof buf,
                "    {.code = 0x%02x, .dst_reg = %u, .src_reg = %u, .off = %d, .imm = %d},\n", i.opcode,
                static_cast<unsigned>(i.dst), static_cast<unsigned>(i.src), static_cast<int>(i.off),
                static_cast<int>(i.imm));
  return buf;
}

std::string byte_list(const std::vector<uint8_t>& bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i % 16 == 0) out += "\n    ";
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%02x,", bytes[i]);
    out += buf;
  }
  return out + "\n";
}

// The C text is one template with the tables in front; `%s`-free so it can
// be pasted as is. Kept as plain strings: a reader sees the whole program.
constexpr const char* kHeader = R"C(#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

)C";

constexpr const char* kCommon = R"C(
static char log_buf[1 << 22];

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

// One kernel program per piece of prog[] (the entry's first; bpfdiff cuts
// a program at the slots its program arrays name, each a program of its
// own in the kernel).
static int prog_fds[PIECES];

static int load(void) {
  for (unsigned p = 0; p < PIECES; ++p) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = PROG_TYPE;
    attr.prog_flags = PROG_FLAGS;
    attr.insns = (uint64_t)(uintptr_t)(prog + piece_first[p]);
    attr.insn_cnt = piece_first[p + 1] - piece_first[p];
    attr.license = (uint64_t)(uintptr_t)"GPL";
    attr.log_level = 1;
    attr.log_buf = (uint64_t)(uintptr_t)log_buf;
    attr.log_size = sizeof(log_buf);
    prog_fds[p] = (int)sys_bpf(BPF_PROG_LOAD, &attr);
    if (prog_fds[p] < 0) {
      printf("BPF_PROG_LOAD (the piece at slot %u): %s\n%s\n", piece_slot[p], strerror(errno), log_buf);
      return -1;
    }
  }
  return prog_fds[0];
}

// The program's maps, created as bpfdiff's executor creates them, and
// their fds patched into the program's lddw instructions.
static int map_fds[MAP_COUNT + 1];

static int create_maps(void) {
  for (unsigned m = 0; m < MAP_COUNT; ++m) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_type = maps[m].type;
    attr.key_size = maps[m].key_size;
    attr.value_size = maps[m].value_size;
    attr.max_entries = maps[m].max_entries;
    if (maps[m].type == BPF_MAP_TYPE_ARRAY) attr.map_flags = maps[m].read_only ? BPF_F_RDONLY_PROG : BPF_F_MMAPABLE;
    map_fds[m] = (int)sys_bpf(BPF_MAP_CREATE, &attr);
    if (map_fds[m] < 0) {
      printf("BPF_MAP_CREATE (map %u): %s\n", m, strerror(errno));
      return -1;
    }
    const int programs = maps[m].type == BPF_MAP_TYPE_PROG_ARRAY; /* filled after the load */
    const int hash = maps[m].type == BPF_MAP_TYPE_HASH;
    for (uint32_t key = 0; !programs && !hash && maps[m].initial != 0 && key < maps[m].max_entries; ++key) {
      memset(&attr, 0, sizeof(attr));
      attr.map_fd = map_fds[m];
      attr.key = (uint64_t)(uintptr_t)&key;
      attr.value = (uint64_t)(uintptr_t)(maps[m].initial + (uint64_t)key * maps[m].value_size);
      if (sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) < 0) {
        printf("BPF_MAP_UPDATE_ELEM (map %u): %s\n", m, strerror(errno));
        return -1;
      }
    }
    /* A hash map's starting entries, key then value, inserted in order. */
    for (uint32_t e = 0; hash && e < maps[m].initial_count; ++e) {
      const unsigned char *entry = maps[m].initial + (uint64_t)e * (maps[m].key_size + maps[m].value_size);
      memset(&attr, 0, sizeof(attr));
      attr.map_fd = map_fds[m];
      attr.key = (uint64_t)(uintptr_t)entry;
      attr.value = (uint64_t)(uintptr_t)(entry + maps[m].key_size);
      attr.flags = BPF_NOEXIST;
      if (sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) < 0) {
        printf("BPF_MAP_UPDATE_ELEM (map %u, starting entry %u): %s\n", m, e, strerror(errno));
        return -1;
      }
    }
    if (maps[m].read_only) {
      memset(&attr, 0, sizeof(attr));
      attr.map_fd = map_fds[m];
      if (sys_bpf(BPF_MAP_FREEZE, &attr) < 0) {
        printf("BPF_MAP_FREEZE (map %u): %s\n", m, strerror(errno));
        return -1;
      }
    }
  }
  for (unsigned i = 0; i < sizeof(prog) / sizeof(prog[0]); ++i) {
    const int at = prog[i].imm - MAP_PLACEHOLDER;
    if (prog[i].code != (BPF_LD | BPF_DW | BPF_IMM) ||
        (prog[i].src_reg != BPF_PSEUDO_MAP_FD && prog[i].src_reg != BPF_PSEUDO_MAP_VALUE) || at < 0 ||
        at >= (int)MAP_COUNT)
      continue;
    prog[i].imm = map_fds[at];
    ++i;  /* the second slot of the lddw */
  }
  return 0;
}

// Program arrays hold, where bpfdiff's VM holds slot s (their initial
// values are 1 + the slot, 0 for empty), the piece that starts at s.
static int fill_program_arrays(void) {
  for (unsigned m = 0; m < MAP_COUNT; ++m) {
    if (maps[m].type != BPF_MAP_TYPE_PROG_ARRAY || maps[m].initial == 0) continue;
    for (uint32_t key = 0; key < maps[m].max_entries; ++key) {
      uint32_t target;
      memcpy(&target, maps[m].initial + 4 * (uint64_t)key, 4);
      if (target == 0) continue;
      int prog_fd = -1;
      for (unsigned p = 0; p < PIECES; ++p) {
        if (piece_slot[p] == target - 1) prog_fd = prog_fds[p];
      }
      union bpf_attr attr;
      memset(&attr, 0, sizeof(attr));
      attr.map_fd = map_fds[m];
      attr.key = (uint64_t)(uintptr_t)&key;
      attr.value = (uint64_t)(uintptr_t)&prog_fd;
      if (sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) < 0) {
        printf("BPF_MAP_UPDATE_ELEM (program array %u): %s\n", m, strerror(errno));
        return -1;
      }
    }
  }
  return 0;
}

static int differs = 0;

static void print_hex(const char *what, const unsigned char *bytes, unsigned size) {
  printf("%s", what);
  for (unsigned i = 0; i < size && i < 32; ++i) printf("%02x", bytes[i]);
  printf("%s", size > 32 ? "..." : "");
}

// Every map read back with BPF_MAP_LOOKUP_ELEM (arrays by index, hash maps
// key by key through BPF_MAP_GET_NEXT_KEY) and compared, as a key/value
// set, with the contents RFC 9669 leaves: a key either side lacks, or a
// value that differs, is printed with both sides.
static int read_entry(unsigned m, const unsigned char *key, unsigned char *value) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.map_fd = map_fds[m];
  attr.key = (uint64_t)(uintptr_t)key;
  attr.value = (uint64_t)(uintptr_t)value;
  return (int)sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr);
}

static void check_entry(unsigned m, const unsigned char *key, const unsigned char *value, unsigned char *seen) {
  const unsigned ks = maps[m].key_size, vs = maps[m].value_size;
  for (unsigned e = 0; e < maps[m].expected_count; ++e) {
    const unsigned char *want = maps[m].expected + (uint64_t)e * (ks + vs);
    if (memcmp(want, key, ks) != 0) continue;
    seen[e] = 1;
    if (memcmp(want + ks, value, vs) == 0) return;
    unsigned at = 0;
    while (want[ks + at] == value[at]) ++at;
    printf("map %u", m);
    print_hex(" key ", key, ks);
    printf(": value byte %u differs\n", at);
    print_hex("  kernel:   ", value, vs);
    print_hex("\n  RFC 9669: ", want + ks, vs);
    printf("   <-- differs\n");
    differs = 1;
    return;
  }
  printf("map %u", m);
  print_hex(" key ", key, ks);
  print_hex(" = ", value, vs);
  printf(", RFC 9669 has no such key   <-- differs\n");
  differs = 1;
}

static void check_maps(void) {
  for (unsigned m = 0; m < MAP_COUNT; ++m) {
    if (maps[m].type == BPF_MAP_TYPE_PROG_ARRAY) continue; /* program fds, not data */
    const unsigned ks = maps[m].key_size, vs = maps[m].value_size;
    unsigned char key[KEY_MAX], next[KEY_MAX], seen[ENTRIES_MAX + 1];
    static unsigned char value[VALUE_MAX];
    unsigned count = 0;
    memset(seen, 0, sizeof(seen));
    if (maps[m].type == BPF_MAP_TYPE_ARRAY) {
      for (uint32_t i = 0; i < maps[m].max_entries; ++i, ++count) {
        memcpy(key, &i, sizeof(i));
        if (read_entry(m, key, value) < 0) {
          printf("BPF_MAP_LOOKUP_ELEM (map %u, index %u): %s\n", m, i, strerror(errno));
          differs = 1;
          return;
        }
        check_entry(m, key, value, seen);
      }
    } else {
      union bpf_attr attr;
      int first = 1;
      for (;; first = 0, memcpy(key, next, ks)) {
        memset(&attr, 0, sizeof(attr));
        attr.map_fd = map_fds[m];
        attr.key = first ? 0 : (uint64_t)(uintptr_t)key;
        attr.next_key = (uint64_t)(uintptr_t)next;
        if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr) < 0) break; /* ENOENT: no more keys */
        if (read_entry(m, next, value) < 0) continue;        /* deleted meanwhile: cannot happen here */
        check_entry(m, next, value, seen);
        if (++count > maps[m].max_entries) break;
      }
    }
    for (unsigned e = 0; e < maps[m].expected_count; ++e) {
      if (seen[e]) continue;
      printf("map %u", m);
      print_hex(" key ", maps[m].expected + (uint64_t)e * (ks + vs), ks);
      print_hex(" missing in the kernel, RFC 9669 says ", maps[m].expected + (uint64_t)e * (ks + vs) + ks, vs);
      printf("   <-- differs\n");
      differs = 1;
    }
    printf("map %u (%s): %u entries read back and compared\n", m,
           maps[m].type == BPF_MAP_TYPE_ARRAY ? "array" : "hash", count);
  }
}

static void check_reg(int r, uint64_t got, uint64_t want, uint64_t mask) {
  int bad = (got & mask) != (want & mask);
  printf("r%d = 0x%llx, RFC 9669 says 0x%llx%s\n", r, (unsigned long long)(got & mask),
         (unsigned long long)(want & mask), bad ? "   <-- differs" : "");
  differs |= bad;
}

static void check_memory(const unsigned char *got, const unsigned char *want, unsigned size) {
  for (unsigned i = 0; i < size; ++i) {
    if (got[i] != want[i]) {
      printf("memory[%u] = 0x%02x, RFC 9669 says 0x%02x   <-- differs\n", i, got[i], want[i]);
      differs = 1;
    }
  }
  printf("memory: %u bytes compared\n", size);
}
)C";

constexpr const char* kPlainMain = R"C(
int main(void) {
  if (create_maps() < 0) return 2;
  int prog_fd = load();
  if (prog_fd < 0 || fill_program_arrays() < 0) return 2;
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.test.prog_fd = prog_fd;
  if (MEMORY_SIZE > 0) {
    attr.test.ctx_in = (uint64_t)(uintptr_t)memory;
    attr.test.ctx_size_in = MEMORY_SIZE;
  }
  if (sys_bpf(BPF_PROG_TEST_RUN, &attr) < 0) {
    printf("BPF_PROG_TEST_RUN: %s\n", strerror(errno));
    return 2;
  }
  if (COMPARE_REGS & 1) check_reg(0, attr.test.retval, expected_regs[0], 0xffffffffULL);
  if (COMPARE_MEMORY) check_memory(memory, expected_memory, MEMORY_SIZE);
  if (COMPARE_MAPS) check_maps();
  printf("%s\n", differs ? "the kernel DIFFERS from RFC 9669" : "the kernel agrees with RFC 9669");
  return differs;
}
)C";

constexpr const char* kFullMain = R"C(
static int array_map(unsigned value_size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = value_size;
  attr.max_entries = 1;
  attr.map_flags = BPF_F_MMAPABLE;
  int fd = (int)sys_bpf(BPF_MAP_CREATE, &attr);
  if (fd < 0) printf("BPF_MAP_CREATE: %s\n", strerror(errno));
  return fd;
}

static int map_io(int cmd, int fd, void *value) {
  uint32_t key = 0;
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.map_fd = fd;
  attr.key = (uint64_t)(uintptr_t)&key;
  attr.value = (uint64_t)(uintptr_t)value;
  return (int)sys_bpf(cmd, &attr);
}

int main(void) {
  uint64_t regs[REGS_WORDS];
  int regs_fd = array_map(sizeof(regs));
  int mem_fd = MEMORY_SIZE > 0 ? array_map(MEMORY_SIZE) : -1;
  if (regs_fd < 0 || (MEMORY_SIZE > 0 && mem_fd < 0)) return 2;
  if (MEMORY_SIZE > 0 && map_io(BPF_MAP_UPDATE_ELEM, mem_fd, memory) < 0) return 2;
  if (create_maps() < 0) return 2;
  for (unsigned i = 0; i < sizeof(prog) / sizeof(prog[0]); ++i) {
    if (prog[i].code != (BPF_LD | BPF_DW | BPF_IMM) || prog[i].src_reg != BPF_PSEUDO_MAP_VALUE) continue;
    if (prog[i].imm == REGS_PLACEHOLDER) prog[i].imm = regs_fd;
    if (prog[i].imm == MEMORY_PLACEHOLDER) prog[i].imm = mem_fd;
  }
  int prog_fd = load();
  if (prog_fd < 0 || fill_program_arrays() < 0) return 2;
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.test.prog_fd = prog_fd;
  if (sys_bpf(BPF_PROG_TEST_RUN, &attr) < 0) {
    printf("BPF_PROG_TEST_RUN: %s\n", strerror(errno));
    return 2;
  }
  if (map_io(BPF_MAP_LOOKUP_ELEM, regs_fd, regs) < 0) return 2;
  if (MEMORY_SIZE > 0 && map_io(BPF_MAP_LOOKUP_ELEM, mem_fd, memory) < 0) return 2;
  const uint64_t piece = regs[DONE_WORD] - EPILOGUE_DONE;
  if (piece >= PIECES) {
    printf("the run returned without reaching the wrapper's epilogue\n");
    return 2;
  }
  if (PIECES > 1) printf("the piece at slot %u exited\n", piece_slot[piece]);
  for (int r = 0; r < 10; ++r) {
    if (COMPARE_REGS & piece_regs[piece] & (1 << r)) check_reg(r, regs[r], expected_regs[r], ~0ULL);
  }
  if (COMPARE_MEMORY) check_memory(memory, expected_memory, MEMORY_SIZE);
  if (COMPARE_MAPS) check_maps();
  printf("%s\n", differs ? "the kernel DIFFERS from RFC 9669" : "the kernel agrees with RFC 9669");
  return differs;
}
)C";

}  // namespace

Result<std::string> c_reproducer(const CReproducerInput& in) {
  if (in.maps.size() > kMaxRequestMaps)
    return make_error("more than " + std::to_string(kMaxRequestMaps) + " maps");
  if (in.compare_maps && in.expected_maps.size() != in.maps.size())
    return make_error("expected contents for " + std::to_string(in.expected_maps.size()) + " of " +
                      std::to_string(in.maps.size()) + " maps");
  std::vector<int> placeholders;
  std::vector<RewriteInput::Map> rewrite_maps;
  for (std::size_t m = 0; m < in.maps.size(); ++m) {
    placeholders.push_back(kMapPlaceholder + static_cast<int>(m));
    RewriteInput::Map rm;
    rm.fd = placeholders.back();
    rm.max_entries = in.maps[m].max_entries;
    rewrite_maps.push_back(rm);
  }
  const bool tail_calls = std::any_of(in.maps.begin(), in.maps.end(),
                                      [](const KernelMap& m) { return m.type == kMapTypeProgArray; });
  if (tail_calls && !in.full_state)
    return make_error("a program with a program array reproduces in the full-state form only");
  // The pieces the executor loads (program_pieces.hpp), concatenated.
  auto pieces = cut_into_pieces(in.program, tail_call_target_slots(in.maps));
  if (!pieces) return pieces.error();
  std::vector<isa::RawInsn> insns = relocate_maps(in.program, placeholders);
  std::vector<uint32_t> piece_first{0};
  std::vector<uint16_t> piece_regs;  // full state, by piece: the registers its epilogue exports
  std::string form = "the program exactly as written, memory as the test run's context (r1)";
  uint16_t compare_regs = in.compare_regs & 1;
  if (in.full_state) {
    RewriteInput rewrite;
    rewrite.regs_map_fd = kRegsPlaceholder;
    rewrite.memory_map_fd = in.memory.empty() ? -1 : kMemoryPlaceholder;
    rewrite.memory_size = static_cast<uint32_t>(in.memory.size());
    rewrite.allow_helper_calls = true;
    rewrite.instrumentation = in.instrumentation;
    rewrite.maps = rewrite_maps;
    rewrite.tail_calls = tail_calls;
    insns.clear();
    piece_first.clear();
    compare_regs = in.compare_regs;
    for (const ProgramPiece& piece : *pieces) {
      rewrite.program = piece.insns;
      rewrite.done_value = kEpilogueDone + static_cast<int32_t>(piece_first.size());
      auto rewritten = rewrite_full_state(rewrite);
      if (!rewritten) return rewritten.error();
      piece_first.push_back(static_cast<uint32_t>(insns.size()));
      piece_regs.push_back(rewritten->regs_valid);
      insns.insert(insns.end(), rewritten->insns.begin(), rewritten->insns.end());
      if (piece.start != 0) continue;
      form = "the program in bpfdiff's full-state wrapper (" + describe(rewritten->instrumentation) +
             "): its pc p is p + " + std::to_string(rewritten->body_offset()) + " here";
    }
    if (pieces->size() > 1) {
      form +=
          "; cut at the tail-call targets, each a program of its own: the piece at slot s "
          "starts at prog[] index";
      for (std::size_t p = 1; p < pieces->size(); ++p)
        form += (p > 1 ? ", " : " ") + std::to_string((*pieces)[p].start) + " -> " +
                std::to_string(piece_first[p]);
    }
  }
  piece_first.push_back(static_cast<uint32_t>(insns.size()));
  const std::size_t size = in.memory.size();
  std::vector<uint8_t> expected_memory = in.expected_memory;
  expected_memory.resize(size, 0);

  std::string c = "// " + in.title + "\n";
  c += "// Standalone reproducer written by bpfdiff: " + form + ".\n";
  c += tail_calls ? "// Loads it as BPF_PROG_TYPE_RAW_TRACEPOINT (it tail-calls: its program arrays hold it\n"
                    "// or its pieces) with raw bpf(), runs it once with\n"
                  : "// Loads it as BPF_PROG_TYPE_SYSCALL (sleepable) with raw bpf(), runs it once with\n";
  c += "// BPF_PROG_TEST_RUN and compares with RFC 9669's result.\n";
  c += "// Build and run as root: cc -O2 -o repro repro.c && ./repro\n";
  c += "// Exit status: 0 the kernel agrees, 1 it differs, 2 it refused the program.\n";
  c += kHeader;
  c += "#define MEMORY_SIZE " + std::to_string(size) + "u\n";
  c += tail_calls ? "#define PROG_TYPE BPF_PROG_TYPE_RAW_TRACEPOINT\n#define PROG_FLAGS 0\n"
                  : "#define PROG_TYPE BPF_PROG_TYPE_SYSCALL\n#define PROG_FLAGS BPF_F_SLEEPABLE\n";
  c += "#define COMPARE_REGS " + std::to_string(compare_regs) + "\n";
  c += "#define COMPARE_MEMORY " + std::string(in.compare_memory ? "1" : "0") + "\n";
  c += "#define REGS_WORDS " + std::to_string(kRegsValueWords) + "\n";
  c += "#define REGS_PLACEHOLDER " + std::to_string(kRegsPlaceholder) + "\n";
  c += "#define MEMORY_PLACEHOLDER " + std::to_string(kMemoryPlaceholder) + "\n";
  c += "#define MAP_PLACEHOLDER " + std::to_string(kMapPlaceholder) + "\n";
  c += "#define MAP_COUNT " + std::to_string(in.maps.size()) + "u\n";
  c += "#define COMPARE_MAPS " + std::string(in.compare_maps ? "1" : "0") + "\n";
  // Buffers of the map read-back: the largest key, value and entry count.
  uint32_t key_max = 4, value_max = 8, entries_max = 1;
  for (const KernelMap& k : in.maps) {
    key_max = std::max(key_max, k.key_size);
    value_max = std::max(value_max, k.value_size);
    entries_max = std::max(entries_max, k.max_entries);
  }
  for (const auto& entries : in.expected_maps)
    entries_max = std::max(entries_max, static_cast<uint32_t>(entries.size()));
  c += "#define KEY_MAX " + std::to_string(key_max) + "u\n";
  c += "#define VALUE_MAX " + std::to_string(value_max) + "u\n";
  c += "#define ENTRIES_MAX " + std::to_string(entries_max) + "u\n\n";
  c += "static struct bpf_insn prog[] = {\n";
  for (const isa::RawInsn& i : insns)
    c += insn_line(i);
  c += "};\n";
  c += "#define PIECES " + std::to_string(piece_first.size() - 1) + "u\n";
  c += "static const unsigned piece_first[PIECES + 1] = {";
  for (std::size_t p = 0; p < piece_first.size(); ++p)
    c += (p ? ", " : "") + std::to_string(piece_first[p]);
  c += "};\nstatic const unsigned piece_slot[PIECES] = {";
  for (std::size_t p = 0; p + 1 < piece_first.size(); ++p)
    c += (p ? ", " : "") + std::to_string(in.full_state ? (*pieces)[p].start : 0);
  c += "};\n";
  if (in.full_state) {
    // The wrapper's epilogue in piece p writes EPILOGUE_DONE + p, so the
    // registers compared are those the piece that exited exports.
    c += "static const unsigned piece_regs[PIECES] = {";
    for (std::size_t p = 0; p < piece_regs.size(); ++p)
      c += (p ? ", " : "") + std::to_string(piece_regs[p]);
    c += "};\n#define DONE_WORD " + std::to_string(kDoneWord) + "\n#define EPILOGUE_DONE " +
         std::to_string(kEpilogueDone) + "ULL\n";
  }
  c += "\n";
  // One spare byte so an empty memory is still a valid C array.
  c += "static unsigned char memory[MEMORY_SIZE + 1] = {" + byte_list(in.memory) + "};\n";
  c +=
      "static const unsigned char expected_memory[MEMORY_SIZE + 1] = {" + byte_list(expected_memory) + "};\n";
  c += "static const uint64_t expected_regs[10] = {";
  for (std::size_t r = 0; r < in.expected_regs.size(); ++r)
    c += (r ? ", " : "") + hex64(in.expected_regs[r]);
  c += "};\n";
  // The maps: type, sizes and the initial contents (an array's values, a
  // hash map's starting entries as key then value).
  const auto initial_bytes = [](const KernelMap& k) {
    std::vector<uint8_t> bytes = k.initial_values;
    for (const KernelMapEntry& e : k.initial_entries) {
      bytes.insert(bytes.end(), e.key.begin(), e.key.end());
      bytes.insert(bytes.end(), e.value.begin(), e.value.end());
    }
    return bytes;
  };
  for (std::size_t m = 0; m < in.maps.size(); ++m) {
    const std::vector<uint8_t> bytes = initial_bytes(in.maps[m]);
    if (bytes.empty()) continue;
    c += "static const unsigned char map" + std::to_string(m) + "_initial[] = {" + byte_list(bytes) + "};\n";
  }
  // What RFC 9669 leaves in each map: its entries, key then value.
  for (std::size_t m = 0; m < in.expected_maps.size(); ++m) {
    std::vector<uint8_t> bytes;
    for (const KernelMapEntry& e : in.expected_maps[m]) {
      bytes.insert(bytes.end(), e.key.begin(), e.key.end());
      bytes.insert(bytes.end(), e.value.begin(), e.value.end());
    }
    if (!bytes.empty())
      c += "static const unsigned char map" + std::to_string(m) + "_expected[] = {" + byte_list(bytes) +
           "};\n";
  }
  c += "static const struct {\n  uint32_t type, key_size, value_size, max_entries, read_only;\n"
       "  const unsigned char *initial;\n  uint32_t initial_count; /* hash maps: starting entries */\n"
       "  const unsigned char *expected;\n  uint32_t expected_count;\n"
       "} maps[MAP_COUNT + 1] = {\n";
  for (std::size_t m = 0; m < in.maps.size(); ++m) {
    const KernelMap& k = in.maps[m];
    const std::size_t expected = m < in.expected_maps.size() ? in.expected_maps[m].size() : 0;
    c += "    {" + std::to_string(k.type) + ", " + std::to_string(k.key_size) + ", " +
         std::to_string(k.value_size) + ", " + std::to_string(k.max_entries) + ", " +
         (k.read_only ? "1" : "0") + ", " +
         (initial_bytes(k).empty() ? std::string("0") : "map" + std::to_string(m) + "_initial") + ", " +
         std::to_string(k.initial_entries.size()) + ", " +
         (expected == 0 ? std::string("0") : "map" + std::to_string(m) + "_expected") + ", " +
         std::to_string(expected) + "},\n";
  }
  c += "    {0, 0, 0, 0, 0, 0, 0, 0, 0},\n};\n";  // a C array is never empty
  c += kCommon;
  c += in.full_state ? kFullMain : kPlainMain;
  return c;
}

}  // namespace bpfdiff::oracle::kernel
