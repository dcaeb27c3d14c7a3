#include "profiles/profile.h"

#include <gtest/gtest.h>

namespace wattline::profiles {
namespace {

const char* kBundled = WATTLINE_PROFILES_DIR "/janitza-umg96rm-e.xml";

TEST(ProfileTest, ParsesBundledJanitzaProfile) {
  auto p = LoadProfile(kBundled);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->id, "janitza-umg96rm-e");
  EXPECT_EQ(p->DisplayName(), "Janitza UMG 96RM-E");
  EXPECT_EQ(p->max_registers, 125);
  EXPECT_EQ(p->word_order, modbus::WordOrder::kABCD);
  ASSERT_EQ(p->signals.size(), 29u);
  EXPECT_EQ(p->signals[0].name, "voltage_l1_n");
  EXPECT_EQ(p->signals[0].address, 19000);
  EXPECT_EQ(p->signals[0].unit, "V");
  EXPECT_EQ(p->signals[0].function, 3);
  const auto& export_energy = p->signals.back();
  EXPECT_EQ(export_energy.name, "active_energy_export");
  EXPECT_EQ(export_energy.address, 19076);
  EXPECT_EQ(export_energy.unit, "Wh");
  EXPECT_EQ(export_energy.kind, SignalKind::kCounter);
}

TEST(ProfileTest, AddressBaseOneShiftsToProtocolAddresses) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M" address-base="1">
  <signal name="voltage_l1_n" address="40001" type="uint16" word-order="BADC" scale="0.1"/>
</profile>)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->signals[0].address, 40000);
  EXPECT_EQ(p->signals[0].word_order, modbus::WordOrder::kBADC);
  EXPECT_DOUBLE_EQ(p->signals[0].scale, 0.1);
}

TEST(ProfileTest, MalformedXmlNamesTheLine) {
  auto p =
      ParseProfile("<profile vendor=\"V\" model=\"M\">\n  <signal name=\"current_l1\"\n</profile>",
                   "", "bad.xml");
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), Code::kInvalidArgument);
  EXPECT_NE(p.error().message().find("bad.xml:3"), std::string::npos) << p.error().message();
}

TEST(ProfileTest, UnknownTypeNamesTheLine) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M">
  <signal name="current_l1" address="1" type="uint16"/>
  <signal name="current_l2" address="2" type="float"/>
</profile>)",
                        "", "t.xml");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("t.xml:3"), std::string::npos) << p.error().message();
  EXPECT_NE(p.error().message().find("unknown type 'float'"), std::string::npos);
}

TEST(ProfileTest, MissingAttributeNamesTheLine) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M">

  <signal name="current_l1" type="uint16"/>
</profile>)",
                        "", "m.xml");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("m.xml:3"), std::string::npos) << p.error().message();
  EXPECT_NE(p.error().message().find("address"), std::string::npos);
}

TEST(ProfileTest, MissingProfileAttribute) {
  auto p = ParseProfile(
      R"(<profile vendor="V"><signal name="current_l1" address="1" type="uint16"/></profile>)");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("'model'"), std::string::npos);
}

TEST(ProfileTest, UnknownAttributeIsRejected) {
  auto p = ParseProfile(
      R"(<profile vendor="V" model="M"><signal name="current_l1" adress="1" type="uint16"/></profile>)");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("unknown attribute 'adress'"), std::string::npos);
}

TEST(ProfileTest, UnknownElementIsRejected) {
  EXPECT_FALSE(ParseProfile(R"(<profile vendor="V" model="M"><sig name="current_l1"/></profile>)")
                   .has_value());
}

TEST(ProfileTest, WrongRootElement) {
  EXPECT_FALSE(ParseProfile(R"(<meter vendor="V" model="M"/>)").has_value());
}

TEST(ProfileTest, BadNumbersAreRejected) {
  EXPECT_FALSE(
      ParseProfile(
          R"(<profile vendor="V" model="M" max-registers="126"><signal name="current_l1" address="1" type="uint16"/></profile>)")
          .has_value());
  EXPECT_FALSE(
      ParseProfile(
          R"(<profile vendor="V" model="M"><signal name="current_l1" address="x1" type="uint16"/></profile>)")
          .has_value());
  EXPECT_FALSE(
      ParseProfile(
          R"(<profile vendor="V" model="M"><signal name="current_l1" address="70000" type="uint16"/></profile>)")
          .has_value());
  EXPECT_FALSE(
      ParseProfile(
          R"(<profile vendor="V" model="M"><signal name="current_l1" address="1" fc="6" type="uint16"/></profile>)")
          .has_value());
  EXPECT_FALSE(
      ParseProfile(
          R"(<profile vendor="V" model="M"><signal name="current_l1" address="1" type="uint16" scale="abc"/></profile>)")
          .has_value());
  EXPECT_FALSE(
      ParseProfile(
          R"(<profile vendor="V" model="M" word-order="XYZW"><signal name="current_l1" address="1" type="uint16"/></profile>)")
          .has_value());
}

TEST(ProfileTest, DuplicateSignalIsRejected) {
  auto p = ParseProfile(
      R"(<profile vendor="V" model="M"><signal name="current_l1" address="1" type="uint16"/><signal name="current_l1" address="2" type="uint16"/></profile>)");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("duplicate"), std::string::npos);
}

TEST(ProfileTest, UnreadableFileIsNotFound) {
  EXPECT_EQ(LoadProfile("/nonexistent/x.xml").error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace wattline::profiles
