#pragma once
// Loading a program from a file: assembly text, raw bytecode or a
// bpf_conformance .data test, told apart by extension and then by content.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vm/program/program.hpp"
#include "vm/runtime/helpers.hpp"
#include "vm/text/data_file.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::cli {

enum class InputKind : uint8_t { Assembly, Bytecode, DataTest, Elf };

const char* to_string(InputKind kind);

struct ProgramInput {
  InputKind kind = InputKind::Assembly;
  vm::Program program;
  std::optional<text::DataTest> data;  // set for .data files: memory and expected outcome
};

// Which program of an ELF object to run: by section (`--section xdp`) or by
// function name (`--program count_packets`, or a .text function such as
// `main`). With neither, the object must hold exactly one program.
struct ElfChoice {
  std::string section;
  std::string program;
  bool empty() const { return section.empty() && program.empty(); }
};

// The chosen program of an ELF object (all its code, maps and programs, with
// the entry set); errors name the object's programs when the choice is wrong.
Result<vm::Program> program_from_elf(std::span<const uint8_t> bytes, const ElfChoice& choice);

Result<std::vector<uint8_t>> read_file(const std::string& path);
Result<void> write_file(const std::string& path, std::span<const uint8_t> bytes);

bool has_elf_magic(std::span<const uint8_t> bytes);

// ".data" for "dir/T.DATA"; empty without an extension.
std::string lowercase_extension(std::string_view path);

// Printable ASCII plus tab, CR and LF only (what assembly text is made of).
bool is_printable_text(std::span<const uint8_t> bytes);

// ELF by magic whatever the name; then .data, .asm/.s, .bin/.o by extension;
// then printable text with a line opening `-- asm` or `-- raw` is a .data
// test, other printable text (or not a whole number of slots) assembly.
InputKind detect_input_kind(std::string_view path, std::span<const uint8_t> bytes);

// The program of a .data test: its `-- raw` bytes, else its assembled `-- asm`,
// with the maps its `-- map-def` sections declare.
Result<vm::Program> program_from_data_test(const text::DataTest& test, const vm::HelperRegistry& helpers);

// Reads, detects and parses `path`. Errors name the file. `elf` picks the
// program of an ELF object and is an error for any other kind of file.
Result<ProgramInput> load_program_file(const std::string& path, const vm::HelperRegistry& helpers,
                                       const ElfChoice& elf = {});

}  // namespace bpfdiff::cli
