#pragma once
// Internal to the text library: the bpfdiff extensions of the .data format
// (`-- mode` and `-- map-def NAME`), one line at a time, so the parser can
// name the line of an error. See data_file.hpp for the syntax; a '#' in
// these sections starts a comment that runs to the end of the line.
#include <string>
#include <string_view>

#include "vm/program/maps.hpp"
#include "vm/text/data_file.hpp"
#include "vm/util/result.hpp"

namespace bpfdiff::text::detail {

// What a `-- mode` section has said so far.
struct ModeSection {
  DataRunMode mode;
  bool named = false;  // the first word, the mode's name, has been read
};

Result<void> parse_mode_line(std::string_view line, ModeSection& section);
Result<void> parse_map_line(std::string_view line, vm::MapDef& map);

// Sections in the syntax the parsers read back.
void append_mode_section(std::string& out, const DataRunMode& mode);
void append_map_section(std::string& out, const vm::MapDef& map);

}  // namespace bpfdiff::text::detail
