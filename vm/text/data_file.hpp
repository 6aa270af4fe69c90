#pragma once
// The bpf_conformance test-case format (.data files):
//   -- asm      assembly source of the program
//   -- raw      (alternative to asm) hex bytes of the program
//   -- mem      hex bytes of the input memory, whitespace separated
//   -- result   expected r0, e.g. 0x2a
//   -- error    expected error message (substring match)
// and two bpfdiff extensions, which other runtimes skip as unknown sections:
//   -- mode           how r1 and r2 are set up: "memory" (the default),
//                     "none", "packet" (an XDP context over -- mem as the
//                     packet) or "mbuff" with "size N", "data_offset N",
//                     "data_end_offset N" (the metadata buffer's layout)
//   -- map-def NAME   one map, in the order the program's lddw indexes them:
//                     "type array|hash|prog_array" (or the Linux number),
//                     "key_size N", "value_size N", "max_entries N",
//                     "flags N", "read_only", "values HEX..." (array initial
//                     contents, concatenated over lines), "entry HEX... =
//                     HEX..." (a hash map's starting entry: key, value; one
//                     line each, inserted in order) and "prog KEY SLOT"
//                     (a program array's entry); '#' starts a comment
//                     anywhere on these sections' lines
// Lines starting with '#' outside the asm section are comments; one reading
// "# budget N" before the first section sets the instruction budget the test
// runs with (as `bpfdiff minimize` and the gate write it), and one reading
// "# max-call-depth N" the call-depth limit.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vm/program/maps.hpp"
#include "vm/runtime/run.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::text {

// "-- mode": the run mode and, for mbuff, the metadata buffer's layout.
struct DataRunMode {
  vm::RunMode mode = vm::RunMode::Memory;
  uint32_t mbuff_size = 16;  // zero-filled bytes of the metadata buffer
  uint32_t data_offset = 0;
  uint32_t data_end_offset = 8;
  bool operator==(const DataRunMode&) const = default;
};

// "memory", "none", "packet", "mbuff": the names `bpfdiff run --mode` takes.
const char* run_mode_name(vm::RunMode mode);
std::optional<vm::RunMode> run_mode_named(std::string_view name);

struct DataTest {
  std::string asm_source;                   // empty when the program is given as raw bytes
  std::optional<std::vector<uint8_t>> raw;  // from "-- raw"
  std::vector<uint8_t> memory;              // from "-- mem"
  std::optional<uint64_t> result;           // from "-- result"
  std::optional<std::string> error;         // from "-- error"
  std::optional<DataRunMode> run_mode;      // from "-- mode"; memory mode when absent
  std::vector<vm::MapDef> maps;             // from "-- map-def" sections, in order
  // From "# budget N"; the default budget when absent. Read only: writers
  // put that comment in the header they write before format_data_test's text.
  std::optional<uint64_t> budget;
  std::optional<uint32_t> max_call_depth;  // from "# max-call-depth N", likewise
};

Result<DataTest> parse_data_test(std::string_view text);
// Inverse of parse (but for the budget comment), for writing regressions.
std::string format_data_test(const DataTest& test);

// Hex bytes separated by whitespace ("aa bb 0c"), as in -- mem and the plugin protocol.
Result<std::vector<uint8_t>> parse_hex_bytes(std::string_view text);

}  // namespace bpfdiff::text
