// Decodes every malformed sample in testdata/batch/ and expects its named error; see
// testdata/batch/README.md for how each file is broken.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "wire/batch.h"
#include "wire/reading_codec.h"

namespace wattline::wire {
namespace {

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(WATTLINE_TESTDATA_DIR) + "/batch/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "missing testdata/batch/" << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct BadFile {
  const char* name;
  const char* error;
};

class BatchTestdataTest : public ::testing::TestWithParam<BadFile> {};

TEST_P(BatchTestdataTest, DecoderRefusesWithNamedError) {
  auto batch = DecodeBatch(ReadTestdata(GetParam().name));
  ASSERT_FALSE(batch) << GetParam().name << " decoded";
  EXPECT_EQ(batch.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(batch.error().message(), ::testing::HasSubstr(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(Malformed, BatchTestdataTest,
                         ::testing::Values(BadFile{"bad_magic.wlb", "bad magic"},
                                           BadFile{"unknown_version.wlb", "unknown version 9"},
                                           BadFile{"checksum_mismatch.wlb", "checksum mismatch"},
                                           BadFile{"truncated.wlb", "truncated"},
                                           BadFile{"trailing_bytes.wlb",
                                                   "trailing bytes after the checksum"},
                                           BadFile{"non_increasing_seq.wlb", "seq not increasing"},
                                           BadFile{"zstd_bomb.wlb", "over the limit"}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           std::string out;
                           bool upper = true;
                           for (char c : n.substr(0, n.find('.'))) {
                             if (c == '_') {
                               upper = true;
                             } else {
                               out.push_back(upper ? static_cast<char>(std::toupper(c)) : c);
                               upper = false;
                             }
                           }
                           return out;
                         });

TEST(BatchSampleFileTest, ValidSampleDecodes) {
  auto batch = DecodeBatch(ReadTestdata("valid.wlb"));
  ASSERT_TRUE(batch) << batch.error().ToString();
  EXPECT_EQ(batch->connector_id, "edge-demo");
  ASSERT_EQ(batch->records.size(), 3u);
  EXPECT_EQ(batch->records[0].seq, 41u);
  EXPECT_EQ(batch->records[2].seq, 43u);
  for (const auto& r : batch->records) {
    auto reading = DecodeReading(r.reading);
    ASSERT_TRUE(reading) << reading.error().ToString();
    EXPECT_EQ(reading->device, "meter-01");
  }
}

}  // namespace
}  // namespace wattline::wire
