#pragma once
// A whole file as a string ("" when it cannot be read): how the tests look
// at what a command or a guest wrote.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace bpfdiff::test_support {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace bpfdiff::test_support
