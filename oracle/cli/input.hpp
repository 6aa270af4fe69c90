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

inline constexpr std::string_view kElfUnsupported = "ELF input is not supported yet";

Result<std::vector<uint8_t>> read_file(const std::string& path);
Result<void> write_file(const std::string& path, std::span<const uint8_t> bytes);

bool has_elf_magic(std::span<const uint8_t> bytes);

// ".data" for "dir/T.DATA"; empty without an extension.
std::string lowercase_extension(std::string_view path);

// Printable ASCII plus tab, CR and LF only (what assembly text is made of).
bool is_printable_text(std::span<const uint8_t> bytes);

// ELF by magic whatever the name; then .data, .asm/.s, .bin/.o by extension;
// then text that is printable, or not a whole number of slots, is assembly.
InputKind detect_input_kind(std::string_view path, std::span<const uint8_t> bytes);

// The program of a .data test: its `-- raw` bytes, else its assembled `-- asm`.
Result<vm::Program> program_from_data_test(const text::DataTest& test, const vm::HelperRegistry& helpers);

// Reads, detects and parses `path`. Errors name the file; ELF is refused.
Result<ProgramInput> load_program_file(const std::string& path, const vm::HelperRegistry& helpers);

}  // namespace bpfdiff::cli
