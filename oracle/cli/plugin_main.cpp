// bpfdiff-plugin: the bpf_conformance plugin; see plugin.hpp for the protocol.
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "oracle/cli/exit_codes.hpp"
#include "oracle/cli/plugin.hpp"

int main(int argc, char** argv) {
  using namespace bpfdiff::cli;
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_plugin_args(args);
  if (!parsed) {
    std::cout << parsed.error().message << "\n";
    std::cerr << parsed.error().message << "\n" << plugin_usage();
    return kExitLoadFailed;
  }
  if (parsed->help) {
    std::cout << plugin_usage();
    return kExitOk;
  }
  const std::string program((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  const PluginOutcome outcome = run_plugin(*parsed, program);
  std::cout << outcome.out << std::flush;
  std::cerr << outcome.err << std::flush;
  return outcome.exit_code;
}
