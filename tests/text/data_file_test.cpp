// The bpf_conformance .data format and the hex byte lists it shares with the plugin protocol.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/map_defs.hpp"
#include "vm/text/data_file.hpp"

namespace bpfdiff::text {
namespace {

using Bytes = std::vector<uint8_t>;

TEST(HexBytes, AcceptsAnyWhitespaceAndOptionalPrefix) {
  auto plugin = parse_hex_bytes("aa  bb  11  ");
  ASSERT_TRUE(plugin.ok()) << plugin.error().message;
  EXPECT_EQ(*plugin, (Bytes{0xaa, 0xbb, 0x11}));
  auto mixed = parse_hex_bytes("\t0xAA 0b\n\r\n c  0X7f");
  ASSERT_TRUE(mixed.ok()) << mixed.error().message;
  EXPECT_EQ(*mixed, (Bytes{0xaa, 0x0b, 0x0c, 0x7f}));
  auto empty = parse_hex_bytes("   ");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(HexBytes, RejectsBadTokensByName) {
  auto bad = parse_hex_bytes("aa zz 11");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "invalid hex byte 'zz' (word 2): expected one or two hex digits, optionally prefixed by 0x");
  EXPECT_FALSE(parse_hex_bytes("123").ok());
  EXPECT_FALSE(parse_hex_bytes("0x").ok());
  EXPECT_FALSE(parse_hex_bytes("aa,bb").ok());
  EXPECT_FALSE(parse_hex_bytes("-1").ok());
}

TEST(DataFile, ParsesConformanceStyleFile) {
  auto t = parse_data_test(
      "# Copyright (c) Big Switch Networks, Inc\n"
      "# SPDX-License-Identifier: Apache-2.0\n"
      "-- asm\n"
      "# comment kept for the assembler\n"
      "mov %r0, r1\n"
      "ldxb r0, [r0+1]\n"
      "exit\n"
      "-- result\n"
      "0x9876543210\n"
      "-- mem\n"
      "00 01 02 03\n"
      "04 05\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->asm_source, "# comment kept for the assembler\nmov %r0, r1\nldxb r0, [r0+1]\nexit\n");
  EXPECT_EQ(t->result, 0x9876543210u);
  EXPECT_EQ(t->memory, (Bytes{0, 1, 2, 3, 4, 5}));
  EXPECT_FALSE(t->raw.has_value());
  EXPECT_FALSE(t->error.has_value());
}

TEST(DataFile, IgnoresUnknownSections) {
  auto t = parse_data_test(
      "-- map\n"
      "array_map 2 4 4 10\n"
      "-- asm\n"
      "call %r2\n"
      "-- result\n"
      "2\n"
      "-- no register offset\n"
      "call instruction\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->asm_source, "call %r2\n");
  EXPECT_EQ(t->result, 2u);
}

TEST(DataFile, ResultInDecimalHexOrNegative) {
  auto dec = parse_data_test("-- result\n42");
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->result, 42u);
  auto neg = parse_data_test("-- result\r\n-1\r\n");
  ASSERT_TRUE(neg.ok()) << neg.error().message;
  EXPECT_EQ(neg->result, ~uint64_t{0});
  auto bad = parse_data_test("-- asm\nexit\n-- result\n0xzz\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "line 4: invalid result '0xzz': expected a number");
  EXPECT_FALSE(parse_data_test("-- result\n\n").ok());
  EXPECT_FALSE(parse_data_test("-- result\n1\n2\n").ok());
}

TEST(DataFile, BadMemoryNamesTheLine) {
  auto bad = parse_data_test("-- mem\naa bb\ncc qq\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("line 3: invalid hex byte 'qq'", 0), 0u) << bad.error().message;
}

TEST(DataFile, RawAsBytesOrAs64BitSlots) {
  auto bytes = parse_data_test("-- raw\nb7 00 00 00 2a 00 00 00\n95 00 00 00 00 00 00 00\n");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  const Bytes want = {0xb7, 0, 0, 0, 0x2a, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(bytes->raw, want);
  auto words = parse_data_test("-- raw\n0x0000002a000000b7\n0x0000000000000095\n");
  ASSERT_TRUE(words.ok()) << words.error().message;
  EXPECT_EQ(words->raw, want);
  EXPECT_FALSE(parse_data_test("-- raw\n0000002a000000b7\n").ok());
}

TEST(DataFile, ErrorSectionIsText) {
  auto t = parse_data_test("-- asm\nja -1\n-- error\n  infinite loop at pc 0  \n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->error, "infinite loop at pc 0");
}

TEST(DataFile, DuplicateSectionIsAnError) {
  auto t = parse_data_test("-- result\n1\n-- result\n2\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "line 3: duplicate section '-- result'");
}

void expect_same(const DataTest& a, const DataTest& b) {
  EXPECT_EQ(a.asm_source, b.asm_source);
  EXPECT_EQ(a.raw, b.raw);
  EXPECT_EQ(a.memory, b.memory);
  EXPECT_EQ(a.result, b.result);
  EXPECT_EQ(a.error, b.error);
  EXPECT_EQ(a.run_mode, b.run_mode);
  ASSERT_EQ(a.maps.size(), b.maps.size());
  for (std::size_t i = 0; i < a.maps.size(); ++i) {
    EXPECT_EQ(a.maps[i].name, b.maps[i].name);
    EXPECT_EQ(a.maps[i].type, b.maps[i].type);
    EXPECT_EQ(a.maps[i].key_size, b.maps[i].key_size);
    EXPECT_EQ(a.maps[i].value_size, b.maps[i].value_size);
    EXPECT_EQ(a.maps[i].max_entries, b.maps[i].max_entries);
    EXPECT_EQ(a.maps[i].flags, b.maps[i].flags);
    EXPECT_EQ(a.maps[i].read_only, b.maps[i].read_only);
    EXPECT_EQ(a.maps[i].initial_values, b.maps[i].initial_values);
    EXPECT_EQ(a.maps[i].initial_entries, b.maps[i].initial_entries);
    EXPECT_EQ(a.maps[i].prog_entries, b.maps[i].prog_entries);
  }
}

TEST(DataFile, FormatRoundTripsThroughParse) {
  DataTest full;
  full.asm_source = "# comment\nmov r0, 1\n\nexit\n";
  full.raw = Bytes{0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 37; ++i)
    full.memory.push_back(static_cast<uint8_t>(i * 7));
  full.result = 0xfedcba9876543210u;
  full.error = "division by zero\nat pc 3";
  full.run_mode = DataRunMode{vm::RunMode::MetaBuffer, 32, 8, 24};
  std::string rodata_bytes;
  for (int i = 0; i < 20; ++i)
    rodata_bytes.push_back(static_cast<char>(0xf0 + i));
  const vm::MapDef rodata = test_support::data_map(".rodata", rodata_bytes);
  vm::MapDef hash = test_support::hash_map(
      "h", 16, 8, 3, {{Bytes(16, 0xab), Bytes{1, 2, 3, 4, 5, 6, 7, 8}}, {Bytes(16, 0), Bytes(8, 0)}});
  hash.flags = 1;
  const vm::MapDef progs = test_support::prog_array("", 4, {{2, 0}, {0, 1}});
  full.maps = {rodata, hash, progs};
  DataTest minimal;
  DataTest empty_error;
  empty_error.error = "";
  DataTest packet;
  packet.run_mode = DataRunMode{vm::RunMode::Packet};
  for (const DataTest& t : {full, minimal, empty_error, packet}) {
    const std::string text = format_data_test(t);
    auto back = parse_data_test(text);
    ASSERT_TRUE(back.ok()) << back.error().message << "\n" << text;
    expect_same(*back, t);
  }
}

TEST(DataFile, ModeAndMapsAreDeclaredInTheirOwnSections) {
  auto t = parse_data_test(
      "-- mode\n"
      "mbuff size 24  # the metadata buffer\n"
      "data_end_offset 0x10\n"
      "-- map-def counts\n"
      "type array\n"
      "key_size 4\n"
      "value_size 2\n"
      "max_entries 2\n"
      "read_only\n"
      "# values span lines\n"
      "values 01 02\n"
      "values 0x03 04 # the second value\n"
      "-- map-def\n"
      "type 3\n"
      "value_size 4\n"
      "max_entries 1\n"
      "prog 0 5\n"
      "-- map-def h\n"
      "type hash\n"
      "key_size 2\n"
      "value_size 3\n"
      "max_entries 2\n"
      "entry 01 00 = 0a 0b 0c  # the first\n"
      "entry 0x02 0x00 =0d 0e 0f\n"
      "-- asm\n"
      "exit\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->run_mode, (DataRunMode{vm::RunMode::MetaBuffer, 24, 0, 16}));
  ASSERT_GE(t->maps.size(), 2u);
  EXPECT_EQ(t->maps[0].name, "counts");
  EXPECT_EQ(t->maps[0].type, vm::MapType::Array);
  EXPECT_TRUE(t->maps[0].read_only);
  EXPECT_EQ(t->maps[0].initial_values, (Bytes{1, 2, 3, 4}));
  EXPECT_EQ(t->maps[1].name, "");
  EXPECT_EQ(t->maps[1].type, vm::MapType::ProgArray);
  EXPECT_EQ(t->maps[1].prog_entries, (std::vector<std::pair<uint32_t, uint32_t>>{{0, 5}}));
  ASSERT_EQ(t->maps.size(), 3u);
  EXPECT_EQ(t->maps[2].type, vm::MapType::Hash);
  EXPECT_EQ(t->maps[2].initial_entries,
            (std::vector<vm::MapEntry>{{Bytes{1, 0}, Bytes{10, 11, 12}}, {Bytes{2, 0}, Bytes{13, 14, 15}}}));
}

TEST(DataFile, BudgetCommentBeforeTheFirstSectionSetsTheBudget) {
  auto t =
      parse_data_test("# from a crash\n#budget 500\n-- asm\n# budget 7\nexit\n-- result\n# budget 9\n0\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->budget, 500u);
  // Anything else is a comment like any other.
  for (const char* text : {"# budget lots\n-- asm\nexit\n", "# budget 0\n", "# budget of the loop: 7\n"}) {
    auto other = parse_data_test(text);
    ASSERT_TRUE(other.ok()) << text;
    EXPECT_FALSE(other->budget.has_value()) << text;
  }
}

TEST(DataFile, CallDepthCommentBeforeTheFirstSectionSetsTheCallDepth) {
  auto t = parse_data_test("# budget 20\n# max-call-depth 3\n-- asm\n# max-call-depth 5\nexit\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->max_call_depth, std::optional<uint32_t>(3));
  EXPECT_EQ(t->budget, 20u);
  for (const char* text : {"# max-call-depth 0\n", "# max-call-depth 99999999999\n", "# max-call-depth x\n",
                           "-- asm\n# max-call-depth 2\nexit\n"}) {
    auto other = parse_data_test(text);
    ASSERT_TRUE(other.ok()) << text;
    EXPECT_FALSE(other->max_call_depth.has_value()) << text;
  }
}

TEST(DataFile, WithoutModeOrMapsTheTestRunsInMemoryModeWithNoMaps) {
  auto t = parse_data_test("-- asm\nexit\n-- result\n0\n");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->run_mode.has_value());
  EXPECT_TRUE(t->maps.empty());
  EXPECT_EQ(format_data_test(*t).find("-- mode"), std::string::npos);
}

TEST(DataFile, BadModeOrMapNamesTheLineAndTheSetting) {
  const std::pair<const char*, const char*> cases[] = {
      {"-- mode\nxdp\n", "line 2: -- mode: unknown run mode 'xdp'"},
      {"-- mode\npacket size 4\n", "line 2: -- mode: size: only the mbuff mode has a metadata buffer"},
      {"-- mode\nmbuff size\n", "line 2: -- mode: size: expected a number"},
      {"-- mode\n", "-- mode is empty"},
      {"-- mode\nnone\n-- mode\nnone\n", "line 3: duplicate section '-- mode'"},
      {"-- map-def m\ntype queue\n", "line 2: -- map-def m: type: expected array"},
      {"-- map-def m\nvalue_size 1 2\n", "line 2: -- map-def m: value_size: expected one number"},
      {"-- map-def m\nmax_entries 0x100000000\n", "is not a 32-bit unsigned number"},
      {"-- map-def m\nvalues 1 zz\n", "line 2: -- map-def m: values: invalid hex byte 'zz'"},
      {"-- map-def m\nsize 4\n", "unknown map setting 'size'"},
      {"-- map-def m\ntype hash\nvalue_size 1\nmax_entries 1\nvalues 00\n",
       "-- map-def: map 0 'm': initial_values: only array maps have them"},
      {"-- map-def m\nvalue_size 4\nmax_entries 2\nvalues 00\n",
       "initial_values: 1 bytes, but max_entries * value_size is 8"},
      {"-- map-def m\ntype hash\nentry 01 02\n",
       "line 3: -- map-def m: entry: expected the key's bytes, '='"},
      {"-- map-def m\ntype hash\nentry 01 zz = 02\n",
       "line 3: -- map-def m: entry key: invalid hex byte 'zz'"},
      {"-- map-def m\ntype hash\nentry 01 = 2g\n", "entry value: invalid hex byte '2g'"},
      {"-- map-def m\ntype hash\nentry = 02\n", "entry: the key and the value need at least one byte each"},
      {"-- map-def m\nvalue_size 1\nmax_entries 1\nentry 00 00 00 00 = 01\n",
       "map 0 'm': initial_entries: only hash maps have them"},
      {"-- map-def m\ntype hash\nkey_size 2\nvalue_size 1\nmax_entries 2\nentry 01 = 01\n",
       "initial_entries: entry 0: a key of 1 bytes, but key_size is 2"},
      {"-- map-def m\ntype hash\nkey_size 1\nvalue_size 2\nmax_entries 2\nentry 01 = 01\n",
       "initial_entries: entry 0: a value of 1 bytes, but value_size is 2"},
      {"-- map-def m\ntype hash\nkey_size 1\nvalue_size 1\nmax_entries 2\nentry 01 = 01\nentry 01 = 02\n",
       "initial_entries: entry 1: key 01 is given twice"},
      {"-- map-def m\ntype hash\nkey_size 1\nvalue_size 1\nmax_entries 1\nentry 01 = 01\nentry 02 = 02\n",
       "initial_entries: 2 entries, more than max_entries 1"},
  };
  for (const auto& [text, message] : cases) {
    auto t = parse_data_test(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.error().message.find(message), std::string::npos) << text << " -> " << t.error().message;
  }
}

}  // namespace
}  // namespace bpfdiff::text
