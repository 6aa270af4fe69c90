#include "oracle/cli/run_mode_flags.hpp"

#include "oracle/cli/commands.hpp"
#include "oracle/run/hex.hpp"
#include "oracle/run/input.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::cli {

void RunModeFlags::add_to(CLI::App& cmd) {
  mode_opt_ =
      cmd.add_option("--mode", mode_,
                     "memory: r1/r2 describe the input memory; none: r1 = r2 = 0; packet: r1 = an XDP "
                     "context; mbuff: r1 = a metadata buffer holding the packet's bounds, r2 = its "
                     "length (default: the input's own, else memory)")
          ->check(CLI::IsMember({"memory", "none", "packet", "mbuff"}));
  auto* packet = cmd.add_option("--packet", packet_hex_, "packet (packet and mbuff modes) as hex");
  auto* packet_file = cmd.add_option("--packet-file", packet_file_, "packet: the raw bytes of this file");
  packet->excludes(packet_file);
  packet_file->excludes(packet);
  mbuff_size_opt_ = cmd.add_option("--mbuff-size", mbuff_size_, "mbuff mode: bytes of the metadata buffer")
                        ->capture_default_str();
  data_offset_opt_ = cmd.add_option("--mbuff-data-offset", data_offset_,
                                    "mbuff mode: where the packet's start address is written")
                         ->capture_default_str();
  data_end_offset_opt_ = cmd.add_option("--mbuff-data-end-offset", data_end_offset_,
                                        "mbuff mode: where the packet's end address is written")
                             ->capture_default_str();
  max_call_depth_opt_ =
      cmd.add_option("--max-call-depth", max_call_depth_, "call frames allowed, the entry's included")
          ->check(kAtLeastOne)
          ->capture_default_str();
}

RunSetupOverride RunModeFlags::given() const {
  RunSetupOverride o;
  if (mode_opt_ != nullptr && mode_opt_->count() > 0) o.mode = text::run_mode_named(mode_);
  if (mbuff_size_opt_ != nullptr && mbuff_size_opt_->count() > 0) o.mbuff_size = mbuff_size_;
  if (data_offset_opt_ != nullptr && data_offset_opt_->count() > 0) o.data_offset = data_offset_;
  if (data_end_offset_opt_ != nullptr && data_end_offset_opt_->count() > 0)
    o.data_end_offset = data_end_offset_;
  if (max_call_depth_opt_ != nullptr && max_call_depth_opt_->count() > 0) o.max_call_depth = max_call_depth_;
  return o;
}

Result<std::optional<std::vector<uint8_t>>> RunModeFlags::packet() const {
  if (!packet_hex_.empty()) {
    auto bytes = parse_hex_arg(packet_hex_);
    if (!bytes) return make_error("--packet: " + bytes.error().message);
    return std::optional<std::vector<uint8_t>>(std::move(bytes).value());
  }
  if (!packet_file_.empty()) {
    auto bytes = read_file(packet_file_);
    if (!bytes) return bytes.error();
    return std::optional<std::vector<uint8_t>>(std::move(bytes).value());
  }
  return std::optional<std::vector<uint8_t>>();
}

Result<std::optional<std::vector<uint8_t>>> run_memory_override(const RunModeFlags& flags,
                                                                const std::string& mem_hex,
                                                                const std::string& mem_file) {
  auto packet = flags.packet();
  if (!packet || *packet) return packet;
  return memory_override(mem_hex, mem_file);
}

}  // namespace bpfdiff::cli
