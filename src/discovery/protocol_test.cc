#include "discovery/protocol.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "wire/crc32c.h"

namespace wattline::discovery {
namespace {

// A datagram built by hand from docs/discovery.md, with a correct checksum unless told.
std::string Raw(uint8_t type, std::string_view body, uint8_t version = kVersion) {
  std::string out = "WLDP";
  out.push_back(static_cast<char>(version));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(body.size() >> 8));
  out.push_back(static_cast<char>(body.size() & 0xFF));
  out.append("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  out.append(body);
  uint32_t crc = wire::Crc32c(out);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((crc >> shift) & 0xFF));
  return out;
}

std::string Field(uint8_t tag, std::string_view value) {
  std::string out(1, static_cast<char>(tag));
  out.push_back(static_cast<char>(value.size() >> 8));
  out.push_back(static_cast<char>(value.size() & 0xFF));
  out.append(value);
  return out;
}

const std::string kKindMeter = Field(kTagNodeKind, std::string(1, '\x01'));

Answer SampleAnswer() {
  Answer a;
  a.nonce = 0x0102030405060708;
  a.kind = NodeKind::kMeter;
  a.identity = {
      .vendor = "Janitza", .model = "UMG 96RM-E", .serial = "70000002", .name = "meter-01"};
  a.endpoints.push_back(
      {.ipv4 = 0x0AD30102, .port = 502, .unit_ids = {1}, .profile = "janitza-umg96rm-e"});
  return a;
}

std::string ErrorOf(std::string_view datagram) {
  auto m = DecodeDatagram(datagram);
  EXPECT_FALSE(m.has_value());
  return m ? "" : m.error().message();
}

TEST(ProtocolTest, QueryRoundTrips) {
  for (uint8_t kinds : {uint8_t{0}, KindBit(NodeKind::kMeter), uint8_t{0x0F}}) {
    Query q{.nonce = 0xDEADBEEFCAFEF00D, .kinds = kinds};
    std::string bytes = EncodeQuery(q);
    auto m = DecodeDatagram(bytes);
    ASSERT_TRUE(m.has_value()) << m.error().ToString();
    ASSERT_TRUE(std::holds_alternative<Query>(*m));
    EXPECT_EQ(std::get<Query>(*m), q);
  }
}

TEST(ProtocolTest, AnswerRoundTrips) {
  Answer a = SampleAnswer();
  a.endpoints.push_back({.ipv4 = 0, .port = 5020, .unit_ids = {1, 2, 247}, .profile = ""});
  auto bytes = EncodeAnswer(a);
  ASSERT_TRUE(bytes.has_value()) << bytes.error().ToString();
  auto m = DecodeDatagram(*bytes);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  ASSERT_TRUE(std::holds_alternative<Answer>(*m));
  EXPECT_EQ(std::get<Answer>(*m), a);
}

TEST(ProtocolTest, HeaderLayoutMatchesTheDocument) {
  std::string bytes = EncodeQuery({.nonce = 0x0102030405060708, .kinds = 0});
  EXPECT_EQ(bytes, Raw(kTypeQuery, ""));
  EXPECT_EQ(bytes.size(), kHeaderSize + kTrailerSize);
}

TEST(ProtocolTest, WantsHonoursKinds) {
  EXPECT_TRUE(Wants({.nonce = 1, .kinds = 0}, NodeKind::kServer));
  Query only_meters{.nonce = 1, .kinds = KindBit(NodeKind::kMeter)};
  EXPECT_TRUE(Wants(only_meters, NodeKind::kMeter));
  EXPECT_FALSE(Wants(only_meters, NodeKind::kGateway));
}

TEST(ProtocolTest, TooShort) {
  EXPECT_NE(ErrorOf("WLDP\x01\x01").find("too short"), std::string::npos);
}

TEST(ProtocolTest, TooLong) {
  EXPECT_NE(ErrorOf(std::string(kMaxDatagram + 1, 'x')).find("too long"), std::string::npos);
}

TEST(ProtocolTest, BadMagic) {
  std::string d = Raw(kTypeQuery, "");
  d[0] = 'X';
  EXPECT_NE(ErrorOf(d).find("magic"), std::string::npos);
}

TEST(ProtocolTest, UnsupportedVersion) {
  EXPECT_NE(ErrorOf(Raw(kTypeQuery, "", 2)).find("version 2"), std::string::npos);
}

TEST(ProtocolTest, UnknownType) {
  EXPECT_NE(ErrorOf(Raw(7, "")).find("type 7"), std::string::npos);
}

TEST(ProtocolTest, BodyLengthMismatch) {
  std::string d = Raw(kTypeQuery, "");
  d[7] = 5;
  EXPECT_NE(ErrorOf(d).find("body length"), std::string::npos);
  std::string extra = Raw(kTypeQuery, "") + "x";
  EXPECT_NE(ErrorOf(extra).find("body length"), std::string::npos);
}

TEST(ProtocolTest, ChecksumMismatch) {
  std::string d = *EncodeAnswer(SampleAnswer());
  d[20] ^= 0x01;
  EXPECT_NE(ErrorOf(d).find("checksum"), std::string::npos);
}

TEST(ProtocolTest, TruncatedFieldHeader) {
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, kKindMeter + "\x02\x00")).find("truncated"),
            std::string::npos);
}

TEST(ProtocolTest, FieldLongerThanBody) {
  std::string body = kKindMeter + std::string("\x02\x00\x09", 3) + "Jan";
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, body)).find("needs 9 bytes"), std::string::npos);
}

TEST(ProtocolTest, FixedFieldOfWrongSize) {
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, Field(kTagNodeKind, "\x01\x01"))).find("not 1 byte"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Raw(kTypeQuery, Field(kTagKinds, ""))).find("not 1 byte"), std::string::npos);
  std::string ep = Field(kTagEpIpv4, "\x0A\x00\x00") + Field(kTagEpPort, "\x01\xF6");
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, kKindMeter + Field(kTagEndpoint, ep))).find("ipv4"),
            std::string::npos);
}

TEST(ProtocolTest, RepeatedField) {
  std::string body = kKindMeter + Field(kTagVendor, "A") + Field(kTagVendor, "B");
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, body)).find("repeated"), std::string::npos);
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, kKindMeter + kKindMeter)).find("repeated"), std::string::npos);
}

TEST(ProtocolTest, MissingNodeKind) {
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, Field(kTagVendor, "A"))).find("node kind missing"),
            std::string::npos);
}

TEST(ProtocolTest, NodeKindOutOfRange) {
  for (char k : {'\x00', '\x05', '\xFF'}) {
    EXPECT_NE(ErrorOf(Raw(kTypeAnswer, Field(kTagNodeKind, std::string(1, k)))).find("node kind"),
              std::string::npos);
  }
}

TEST(ProtocolTest, ControlCharacterInText) {
  std::string body = kKindMeter + Field(kTagModel, "UMG\n96");
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, body)).find("control"), std::string::npos);
}

TEST(ProtocolTest, TextTooLong) {
  std::string body = kKindMeter + Field(kTagName, std::string(kMaxText + 1, 'a'));
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, body)).find("longer"), std::string::npos);
}

TEST(ProtocolTest, EndpointWithoutPortOrPortZero) {
  std::string no_port = Field(kTagEpIpv4, std::string("\x0A\x00\x00\x01", 4));
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, kKindMeter + Field(kTagEndpoint, no_port))).find("missing"),
            std::string::npos);
  std::string port0 = no_port + Field(kTagEpPort, std::string(2, '\0'));
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, kKindMeter + Field(kTagEndpoint, port0))).find("port 0"),
            std::string::npos);
}

TEST(ProtocolTest, EmptyUnitList) {
  std::string ep = Field(kTagEpIpv4, std::string("\x0A\x00\x00\x01", 4)) +
                   Field(kTagEpPort, "\x01\xF6") + Field(kTagEpUnits, "");
  EXPECT_NE(ErrorOf(Raw(kTypeAnswer, kKindMeter + Field(kTagEndpoint, ep))).find("unit id"),
            std::string::npos);
}

TEST(ProtocolTest, UnknownFieldsAreSkipped) {
  std::string ep = Field(kTagEpIpv4, std::string("\x0A\x00\x00\x01", 4)) + Field(0x7E, "future") +
                   Field(kTagEpPort, "\x01\xF6");
  std::string body = Field(0x42, "later") + kKindMeter + Field(kTagEndpoint, ep);
  auto m = DecodeDatagram(Raw(kTypeAnswer, body));
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  const auto& a = std::get<Answer>(*m);
  ASSERT_EQ(a.endpoints.size(), 1u);
  EXPECT_EQ(a.endpoints[0].ipv4, 0x0A000001u);
  EXPECT_EQ(a.endpoints[0].port, 502);
  EXPECT_TRUE(a.endpoints[0].unit_ids.empty());
}

TEST(ProtocolTest, EncodeRefusesWhatCannotBeSent) {
  Answer a = SampleAnswer();
  a.identity.name = std::string(kMaxText + 1, 'x');
  EXPECT_FALSE(EncodeAnswer(a).has_value());
  a = SampleAnswer();
  a.endpoints[0].port = 0;
  EXPECT_FALSE(EncodeAnswer(a).has_value());
  a = SampleAnswer();
  for (int i = 0; i < 60; ++i) a.endpoints.push_back(a.endpoints[0]);
  auto too_big = EncodeAnswer(a);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_NE(too_big.error().message().find("datagram holds"), std::string::npos);
}

TEST(ProtocolTest, Ipv4TextRoundTrips) {
  EXPECT_EQ(FormatIpv4(0x0AD30102), "10.211.1.2");
  EXPECT_EQ(ParseIpv4("10.211.1.2").value(), 0x0AD30102u);
  for (const char* bad :
       {"", "10.0.0", "10.0.0.256", "10.0.0.1.", "a.b.c.d", "1.2.3.4x", "1..2.3"}) {
    EXPECT_FALSE(ParseIpv4(bad).has_value()) << bad;
  }
}

// The corpus was written by an independent generator from docs/discovery.md
// (testdata/discovery/README.md): valid_* must decode, bad_* must be refused.
TEST(ProtocolTest, CorpusFilesDecodeAsNamed) {
  namespace fs = std::filesystem;
  int valid = 0, bad = 0;
  for (const auto& e : fs::directory_iterator(WATTLINE_DISCOVERY_TESTDATA)) {
    std::string name = e.path().filename().string();
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto m = DecodeDatagram(bytes);
    if (name.starts_with("valid_")) {
      EXPECT_TRUE(m.has_value()) << name << ": " << m.error().ToString();
      ++valid;
    } else if (name.starts_with("bad_")) {
      EXPECT_FALSE(m.has_value()) << name;
      ++bad;
    }
  }
  EXPECT_GE(valid, 3);
  EXPECT_GE(bad, 8);
}

}  // namespace
}  // namespace wattline::discovery
