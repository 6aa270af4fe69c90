#include "oracle/cli/plugin.hpp"

#include <sstream>
#include <vector>

#include "oracle/cli/exit_codes.hpp"
#include "oracle/engine.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/input.hpp"
#include "oracle/run/session.hpp"
#include "vm/text/data_file.hpp"
#include "vm/text/disassembler.hpp"

namespace bpfdiff::cli {
namespace {

bool is_option_group(std::string_view arg) {
  const auto first = arg.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && arg.substr(first, 2) == "--";
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;)
    words.push_back(w);
  return words;
}

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

PluginOutcome failure(const std::string& message) {
  return PluginOutcome{kExitRunFailed, message + "\n", message + "\n"};
}

}  // namespace

Result<PluginArgs> parse_plugin_args(std::span<const std::string> args) {
  struct Token {
    std::string text;
    bool option;
  };
  std::vector<Token> tokens;
  for (const std::string& arg : args) {
    if (is_option_group(arg)) {
      for (std::string& w : split_words(arg))
        tokens.push_back(Token{std::move(w), true});
    } else {
      tokens.push_back(Token{arg, false});
    }
  }

  PluginArgs parsed;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i].text;
    if (tokens[i].option && t.rfind("--", 0) != 0) {
      return make_error("unexpected argument '" + t + "' among the options");
    } else if (!tokens[i].option) {
      if (t == "-h") {
        parsed.help = true;
      } else if (!parsed.memory_hex) {
        parsed.memory_hex = t;
      } else if (!is_blank(t)) {
        return make_error("unexpected argument '" + t + "' (memory was already given)");
      }
    } else if (t == "--engine") {
      if (i + 1 == tokens.size()) return make_error("--engine needs a value");
      parsed.engine = tokens[++i].text;
    } else if (t.rfind("--engine=", 0) == 0) {
      parsed.engine = t.substr(9);
    } else if (t == "--elf") {
      parsed.elf = true;
    } else if (t == "--debug") {
      parsed.debug = true;
    } else if (t == "--help") {
      parsed.help = true;
    } else {
      return make_error("unknown option '" + t + "'");
    }
  }
  return parsed;
}

std::string plugin_usage() {
  return "usage: bpfdiff-plugin [MEMORY] [--engine NAME] [--elf] [--debug]\n"
         "\n"
         "Runs one bpf_conformance test. The program arrives on stdin as hex bytes\n"
         "separated by whitespace (raw 8-byte instructions, or an ELF object with --elf).\n"
         "MEMORY is one argument of hex bytes (\"aa  bb  11  \"); r1 points to a writable\n"
         "copy of it (0 when absent), r2 holds its length, r10 the top of a 512-byte stack.\n"
         "Prints r0 as 0x.. and exits 0, or prints the error and exits non-zero.\n"
         "\n"
         "  --engine NAME   engine to run the program with (default interp)\n"
         "  --elf           stdin is an ELF object; its function `main` in .text runs\n"
         "  --debug         print the decoded program to stderr\n";
}

PluginOutcome run_plugin(const PluginArgs& args, std::string_view program_text) {
  if (auto engine = oracle::make_engine(args.engine); !engine) return failure(engine.error().message);

  std::vector<uint8_t> memory;
  if (args.memory_hex) {
    auto parsed = text::parse_hex_bytes(*args.memory_hex);
    if (!parsed) return failure("bad memory argument: " + parsed.error().message);
    memory = std::move(parsed).value();
  }
  auto bytes = text::parse_hex_bytes(program_text);
  if (!bytes) return failure("bad program on stdin: " + bytes.error().message);
  // bpf_conformance's ELF runner wraps a test into an object whose global
  // `main` in .text is the program.
  auto program = args.elf ? program_from_elf(*bytes, ElfChoice{"", "main"}) : vm::program_from_bytes(*bytes);
  if (!program) return failure(program.error().message);

  PluginOutcome outcome;
  if (args.debug) {
    outcome.err += "memory: " + std::to_string(memory.size()) + " bytes\n";
    outcome.err += text::disassemble(program->slots, text::DisasmOptions{true, false});
  }

  RunOptions options;
  options.engine = args.engine;
  options.mode = vm::RunMode::Memory;
  auto report = run_program(*program, memory, options, oracle::default_helpers());
  if (!report) return failure(report.error().message);
  if (!report->result.ok()) return failure(vm::describe(report->result.error));
  outcome.out = hex_u64(report->result.r0()) + "\n";
  return outcome;
}

}  // namespace bpfdiff::cli
