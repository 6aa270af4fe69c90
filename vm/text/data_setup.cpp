#include "vm/text/data_setup.hpp"

#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

#include "vm/text/lexer.hpp"

namespace bpfdiff::text::detail {
namespace {

// The words of a line, up to a '#' that starts a trailing comment.
std::vector<std::string_view> words_of(std::string_view line) {
  line = line.substr(0, line.find('#'));
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t')
      ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

Result<uint32_t> parse_u32(std::string_view key, std::string_view word) {
  const auto v = parse_magnitude(word);
  if (!v || *v > std::numeric_limits<uint32_t>::max()) {
    return make_error(std::string(key) + ": '" + std::string(word) + "' is not a 32-bit unsigned number");
  }
  return static_cast<uint32_t>(*v);
}

// The words after a key: exactly one number.
Result<uint32_t> single_u32(const std::vector<std::string_view>& words) {
  if (words.size() != 2) return make_error(std::string(words[0]) + ": expected one number");
  return parse_u32(words[0], words[1]);
}

std::optional<vm::MapType> map_type_named(std::string_view name) {
  for (const vm::MapType t : {vm::MapType::Hash, vm::MapType::Array, vm::MapType::ProgArray}) {
    if (name == vm::to_string(t)) return t;
  }
  // A Linux BPF_MAP_TYPE_* number, so an unsupported type reaches the
  // validator and is reported by it like one from an ELF object.
  const auto number = parse_magnitude(name);
  if (number && *number <= std::numeric_limits<uint32_t>::max()) return static_cast<vm::MapType>(*number);
  return std::nullopt;
}

void append_u32(std::string& out, const char* key, uint32_t value) {
  out += key;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

Result<void> parse_mode_line(std::string_view line, ModeSection& section) {
  std::vector<std::string_view> words = words_of(line);
  std::size_t i = 0;
  if (!section.named) {
    const auto mode = run_mode_named(words[0]);
    if (!mode) {
      return make_error("unknown run mode '" + std::string(words[0]) +
                        "': expected memory, none, packet or mbuff");
    }
    section.mode.mode = *mode;
    section.named = true;
    i = 1;
  }
  for (; i < words.size(); i += 2) {
    const std::string_view key = words[i];
    uint32_t* field = key == "size"              ? &section.mode.mbuff_size
                      : key == "data_offset"     ? &section.mode.data_offset
                      : key == "data_end_offset" ? &section.mode.data_end_offset
                                                 : nullptr;
    if (field == nullptr) {
      return make_error("unknown mode setting '" + std::string(key) +
                        "': expected size, data_offset or data_end_offset");
    }
    if (section.mode.mode != vm::RunMode::MetaBuffer)
      return make_error(std::string(key) + ": only the mbuff mode has a metadata buffer");
    if (i + 1 >= words.size()) return make_error(std::string(key) + ": expected a number");
    auto value = parse_u32(key, words[i + 1]);
    if (!value) return value.error();
    *field = *value;
  }
  return {};
}

Result<void> parse_map_line(std::string_view line, vm::MapDef& map) {
  const std::vector<std::string_view> words = words_of(line);
  const std::string_view key = words[0];
  if (key == "type") {
    const auto type = words.size() == 2 ? map_type_named(words[1]) : std::nullopt;
    if (!type) return make_error("type: expected array, hash, prog_array or a Linux map type number");
    map.type = *type;
    return {};
  }
  if (key == "read_only") {
    if (words.size() != 1) return make_error("read_only: takes no value");
    map.read_only = true;
    return {};
  }
  if (key == "values") {
    const std::string_view bytes_text = line.substr(0, line.find('#'));
    auto bytes = parse_hex_bytes(bytes_text.substr(bytes_text.find("values") + 6));
    if (!bytes) return make_error("values: " + bytes.error().message);
    map.initial_values.insert(map.initial_values.end(), bytes->begin(), bytes->end());
    return {};
  }
  if (key == "entry") {
    // "entry KEY... = VALUE...": a hash map's starting entry, bytes in hex.
    const std::string_view text = line.substr(0, line.find('#'));
    const std::string_view rest = text.substr(text.find("entry") + 5);
    const std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos)
      return make_error("entry: expected the key's bytes, '=' and the value's");
    auto k = parse_hex_bytes(rest.substr(0, eq));
    if (!k) return make_error("entry key: " + k.error().message);
    auto v = parse_hex_bytes(rest.substr(eq + 1));
    if (!v) return make_error("entry value: " + v.error().message);
    if (k->empty() || v->empty())
      return make_error("entry: the key and the value need at least one byte each");
    map.initial_entries.push_back({std::move(k).value(), std::move(v).value()});
    return {};
  }
  if (key == "prog") {
    if (words.size() != 3) return make_error("prog: expected a key and the slot its program starts at");
    auto k = parse_u32("prog key", words[1]);
    if (!k) return k.error();
    auto slot = parse_u32("prog slot", words[2]);
    if (!slot) return slot.error();
    map.prog_entries.emplace_back(*k, *slot);
    return {};
  }
  uint32_t* field = key == "key_size"      ? &map.key_size
                    : key == "value_size"  ? &map.value_size
                    : key == "max_entries" ? &map.max_entries
                    : key == "flags"       ? &map.flags
                                           : nullptr;
  if (field == nullptr) {
    return make_error(
        "unknown map setting '" + std::string(key) +
        "': expected type, key_size, value_size, max_entries, flags, read_only, values, entry or prog");
  }
  auto value = single_u32(words);
  if (!value) return value.error();
  *field = *value;
  return {};
}

void append_mode_section(std::string& out, const DataRunMode& mode) {
  out += "-- mode\n";
  out += run_mode_name(mode.mode);
  out += '\n';
  if (mode.mode != vm::RunMode::MetaBuffer) return;
  append_u32(out, "size", mode.mbuff_size);
  append_u32(out, "data_offset", mode.data_offset);
  append_u32(out, "data_end_offset", mode.data_end_offset);
}

void append_map_section(std::string& out, const vm::MapDef& map) {
  out += "-- map-def";
  if (!map.name.empty()) out += " " + map.name;
  out += '\n';
  const char* type = vm::to_string(map.type);
  if (std::string_view(type) == "unknown") {
    append_u32(out, "type", static_cast<uint32_t>(map.type));
  } else {
    out += std::string("type ") + type + "\n";
  }
  append_u32(out, "key_size", map.key_size);
  append_u32(out, "value_size", map.value_size);
  append_u32(out, "max_entries", map.max_entries);
  if (map.flags != 0) append_u32(out, "flags", map.flags);
  if (map.read_only) out += "read_only\n";
  constexpr std::size_t kPerLine = 16;
  for (std::size_t i = 0; i < map.initial_values.size(); i += kPerLine) {
    out += "values";
    for (std::size_t j = i; j < map.initial_values.size() && j < i + kPerLine; ++j) {
      char buf[4];
      std::snprintf(buf, sizeof buf, " %02x", map.initial_values[j]);
      out += buf;
    }
    out += '\n';
  }
  const auto append_hex = [&out](const std::vector<uint8_t>& bytes) {
    for (uint8_t b : bytes) {
      char buf[4];
      std::snprintf(buf, sizeof buf, " %02x", b);
      out += buf;
    }
  };
  for (const vm::MapEntry& e : map.initial_entries) {
    out += "entry";
    append_hex(e.key);
    out += " =";
    append_hex(e.value);
    out += '\n';
  }
  for (const auto& [key, slot] : map.prog_entries) {
    out += "prog " + std::to_string(key) + " " + std::to_string(slot) + "\n";
  }
}

}  // namespace bpfdiff::text::detail
