#include "edge/web/web_store.h"

#include <gtest/gtest.h>

#include <fstream>

namespace wattline::edge::web {
namespace {
namespace fs = std::filesystem;

class WebStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("wattline-web-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(WebStoreTest, AtomicWriteReplacesTheFileAndLeavesNoTemporary) {
  const fs::path p = dir_ / "f.toml";
  ASSERT_TRUE(WriteFileAtomically(p, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(p, "two").ok());
  EXPECT_EQ(ReadAll(p), "two");
  EXPECT_FALSE(fs::exists(dir_ / "f.toml.tmp"));
}

TEST_F(WebStoreTest, FailedWriteKeepsTheOldFile) {
  const fs::path p = dir_ / "f.toml";
  ASSERT_TRUE(WriteFileAtomically(p, "old").ok());
  // The temporary file cannot be created when its name is taken by a folder.
  fs::create_directories(dir_ / "f.toml.tmp");
  Status s = WriteFileAtomically(p, "new");
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(ReadAll(p), "old");
}

TEST_F(WebStoreTest, MeterFileRoundTripsEveryTransport) {
  MeterFile f;
  MeterConfig tcp;
  tcp.key = "a";
  tcp.host = "127.0.0.1";
  tcp.port = 1502;
  tcp.unit_id = 3;
  tcp.profile = "eastron-sdm630";
  MeterConfig serial;
  serial.key = "b";
  serial.transport = Transport::kSerial;
  serial.serial.device = "/dev/ttyUSB0";
  serial.serial.baud = 19200;
  serial.serial.parity = modbus::Parity::kOdd;
  serial.serial.stop_bits = 2;
  serial.profile = "eastron-sdm120";
  serial.cycle = std::chrono::milliseconds(5000);
  MeterConfig rtu = tcp;
  rtu.key = "c";
  rtu.transport = Transport::kRtuOverTcp;
  rtu.serial.baud = 38400;
  f.meters = {tcp, serial, rtu};
  f.ignored = {"tcp://10.0.0.7:502/1"};
  ASSERT_TRUE(SaveMeterFile(dir_ / "meters.toml", f).ok());
  auto back = LoadMeterFile(dir_ / "meters.toml");
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->meters.size(), 3u);
  EXPECT_EQ(back->meters[0].unit_id, 3);
  EXPECT_EQ(back->meters[0].port, 1502);
  EXPECT_EQ(back->meters[1].transport, Transport::kSerial);
  EXPECT_EQ(back->meters[1].serial.device, "/dev/ttyUSB0");
  EXPECT_EQ(back->meters[1].serial.parity, modbus::Parity::kOdd);
  EXPECT_EQ(back->meters[1].serial.stop_bits, 2);
  EXPECT_EQ(back->meters[1].cycle.count(), 5000);
  EXPECT_EQ(back->meters[2].transport, Transport::kRtuOverTcp);
  EXPECT_EQ(back->meters[2].serial.baud, 38400u);
  EXPECT_EQ(back->ignored, f.ignored);
  EXPECT_EQ(EndpointId(back->meters[1]), "serial:///dev/ttyUSB0/1");
  EXPECT_EQ(EndpointId(back->meters[2]), "rtu-over-tcp://127.0.0.1:1502/3");
}

TEST_F(WebStoreTest, MissingFilesGiveDefaultsAndBadOnesAnError) {
  auto meters = LoadMeterFile(dir_ / "meters.toml");
  ASSERT_TRUE(meters);
  EXPECT_TRUE(meters->meters.empty());
  auto hash = LoadPasswordHash(dir_ / "password");
  ASSERT_TRUE(hash);
  EXPECT_FALSE(hash->has_value());
  ASSERT_TRUE(WriteFileAtomically(dir_ / "meters.toml", "[[meter]]\nkey = 3\n").ok());
  EXPECT_EQ(LoadMeterFile(dir_ / "meters.toml").error().code(), Code::kInvalidArgument);
  ASSERT_TRUE(WriteFileAtomically(dir_ / "meters.toml", "ignored = [\n").ok());
  EXPECT_EQ(LoadMeterFile(dir_ / "meters.toml").error().code(), Code::kInvalidArgument);
  ASSERT_TRUE(WriteFileAtomically(dir_ / "password", "plaintext\n").ok());
  EXPECT_EQ(LoadPasswordHash(dir_ / "password").error().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace wattline::edge::web
