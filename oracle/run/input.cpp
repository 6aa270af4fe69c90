#include "oracle/run/input.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "vm/elf/elf_loader.hpp"
#include "vm/text/assembler.hpp"

namespace bpfdiff::cli {
namespace {

bool is_text_byte(uint8_t b) {
  return (b >= 0x20 && b < 0x7f) || b == '\n' || b == '\r' || b == '\t';
}

Error prefixed(const std::string& path, const Error& error) {
  return make_error(path + ": " + error.message);
}

}  // namespace

std::string lowercase_extension(std::string_view path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  return ext;
}

bool is_printable_text(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), is_text_byte);
}

const char* to_string(InputKind kind) {
  switch (kind) {
    case InputKind::Assembly:
      return "assembly";
    case InputKind::Bytecode:
      return "bytecode";
    case InputKind::DataTest:
      return "data test";
    case InputKind::Elf:
      return "ELF";
  }
  return "?";
}

Result<std::vector<uint8_t>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(path + ": read error");
  return bytes;
}

Result<void> write_file(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(path + ": cannot create: " + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) return make_error(path + ": write error");
  return {};
}

bool has_elf_magic(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F';
}

namespace {

// A .data test under another name (a BPFDIFF_CASE_FILE path): a line that
// opens its program section, which no assembly source has.
bool has_data_test_section(std::span<const uint8_t> bytes) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, end - at);
    if (line.rfind("-- asm", 0) == 0 || line.rfind("-- raw", 0) == 0) return true;
    at = end + 1;
  }
  return false;
}

}  // namespace

InputKind detect_input_kind(std::string_view path, std::span<const uint8_t> bytes) {
  if (has_elf_magic(bytes)) return InputKind::Elf;
  const std::string ext = lowercase_extension(path);
  if (ext == ".data") return InputKind::DataTest;
  if (ext == ".asm" || ext == ".s") return InputKind::Assembly;
  if (ext == ".bin" || ext == ".o") return InputKind::Bytecode;
  if (bytes.size() % 8 != 0 || is_printable_text(bytes)) {
    return is_printable_text(bytes) && has_data_test_section(bytes) ? InputKind::DataTest
                                                                    : InputKind::Assembly;
  }
  return InputKind::Bytecode;
}

Result<vm::Program> program_from_data_test(const text::DataTest& test, const vm::HelperRegistry& helpers) {
  auto program = test.raw ? vm::program_from_bytes(*test.raw)
                          : text::assemble(test.asm_source, text::AssembleOptions{&helpers});
  if (program) program->maps = test.maps;
  return program;
}

Result<vm::Program> program_from_elf(std::span<const uint8_t> bytes, const ElfChoice& choice) {
  auto object = elf::load_elf(bytes);
  if (!object) return object.error();
  if (!choice.section.empty() && !choice.program.empty()) {
    return make_error("choose a program by section or by name, not both");
  }
  if (!choice.section.empty()) return elf::program_in_section(*object, choice.section);
  if (!choice.program.empty()) return elf::program_named(*object, choice.program);
  if (object->programs.size() != 1) {
    std::string names;
    for (const elf::ElfFunction& f : object->programs) {
      names += (names.empty() ? "" : ", ") + f.name + " (section " + f.section + ")";
    }
    return make_error(
        "the object holds " + std::to_string(object->programs.size()) +
        " programs; choose one with --section or --program: " + (names.empty() ? "none" : names));
  }
  return elf::program_named(*object, object->programs.front().name);
}

Result<ProgramInput> load_program_file(const std::string& path, const vm::HelperRegistry& helpers,
                                       const ElfChoice& elf) {
  auto bytes = read_file(path);
  if (!bytes) return bytes.error();
  ProgramInput input;
  input.kind = detect_input_kind(path, *bytes);
  if (input.kind != InputKind::Elf && !elf.empty()) {
    return make_error(path + ": --section and --program choose a program of an ELF object (this file is " +
                      to_string(input.kind) + ")");
  }
  const std::string_view as_text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  switch (input.kind) {
    case InputKind::Elf: {
      auto program = program_from_elf(*bytes, elf);
      if (!program) return prefixed(path, program.error());
      input.program = std::move(program).value();
      // The name is the program's, not the file's.
      return input;
    }
    case InputKind::Bytecode: {
      auto program = vm::program_from_bytes(*bytes);
      if (!program) return prefixed(path, program.error());
      input.program = std::move(program).value();
      break;
    }
    case InputKind::Assembly: {
      auto program = text::assemble(as_text, text::AssembleOptions{&helpers});
      if (!program) return prefixed(path, program.error());
      input.program = std::move(program).value();
      break;
    }
    case InputKind::DataTest: {
      auto test = text::parse_data_test(as_text);
      if (!test) return prefixed(path, test.error());
      auto program = program_from_data_test(*test, helpers);
      if (!program) return prefixed(path, program.error());
      input.program = std::move(program).value();
      input.data = std::move(test).value();
      break;
    }
  }
  input.program.name = std::filesystem::path(path).stem().string();
  return input;
}

}  // namespace bpfdiff::cli
