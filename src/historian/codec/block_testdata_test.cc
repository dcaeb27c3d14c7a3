// The checked-in samples in testdata/block/ (see its README): valid blocks decode, each broken
// one is refused with kDataLoss and the error its README names.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "historian/codec/block.h"

namespace wattline::historian::codec {
namespace {

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(WATTLINE_TESTDATA_DIR) + "/block/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(BlockTestdataTest, ValidSamplesDecode) {
  int seen = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(WATTLINE_TESTDATA_DIR) + "/block")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("valid_", 0) != 0) continue;
    ++seen;
    auto block = DecodeBlock(ReadSample(name));
    ASSERT_TRUE(block) << name << ": " << block.error().ToString();
    const size_t expected = name == "valid_empty.blk" ? 0 : 300;
    EXPECT_EQ(block->ts_ms.size(), expected) << name;
    EXPECT_EQ(block->values.size(), expected) << name;
    const bool is_codec_file = name.find("_auto") == std::string::npos && name != "valid_empty.blk";
    if (is_codec_file) {
      const std::string codec(ValueCodecName(block->codec));
      EXPECT_NE(name.find("_" + codec + ".blk"), std::string::npos) << name;
    }
  }
  EXPECT_EQ(seen, 11);
}

TEST(BlockTestdataTest, BrokenSamplesAreRefused) {
  const std::pair<const char*, const char*> cases[] = {
      {"truncated.blk", "checksum mismatch"},
      {"unknown_version.blk", "unknown version 9"},
      {"checksum_mismatch.blk", "checksum mismatch"},
      {"trailing_bytes.blk", "checksum mismatch"},
      {"unknown_codec.blk", "unknown value codec 42"},
      {"count_over_limit.blk", "more than the limit"},
      {"value_column_truncated.blk", "truncated"},
      {"ordered_rans_bad_state.blk", "value column (ordered-rans)"},
  };
  for (const auto& [file, message] : cases) {
    auto block = DecodeBlock(ReadSample(file));
    ASSERT_FALSE(block) << file;
    EXPECT_EQ(block.error().code(), Code::kDataLoss) << file;
    EXPECT_NE(block.error().message().find(message), std::string::npos)
        << file << ": " << block.error().message();
  }
}

}  // namespace
}  // namespace wattline::historian::codec
