#include "vm/runtime/run.hpp"

namespace bpfdiff::vm {

std::string check_run_input(const RunInput& input) {
  switch (input.mode) {
    case RunMode::NoData:
    case RunMode::Memory:
      return "";
    case RunMode::Packet:
    case RunMode::MetaBuffer:
      break;
  }
  if (input.memory.size() > kMaxPacketBytes) {
    return "packet of " + std::to_string(input.memory.size()) + " bytes is larger than the limit of " +
           std::to_string(kMaxPacketBytes);
  }
  if (input.mode == RunMode::MetaBuffer) {
    const std::size_t size = input.metadata.size();
    for (const auto& [name, offset] : {std::pair<const char*, uint32_t>{"data", input.data_offset},
                                       std::pair<const char*, uint32_t>{"data_end", input.data_end_offset}}) {
      if (offset > size || size - offset < 8) {
        return std::string("metadata buffer of ") + std::to_string(size) +
               " bytes has no room for the 8-byte " + name + " address at offset " + std::to_string(offset);
      }
    }
  }
  return "";
}

}  // namespace bpfdiff::vm
