// Every bundled driver parses; `profile check` collects every error with its line.
#include <gtest/gtest.h>

#include <filesystem>

#include "profiles/profile.h"
#include "profiles/profile_registry.h"
#include "profiles/read_plan.h"

namespace wattline::profiles {
namespace {

const char* kBundledIds[] = {"janitza-umg96rm-e",  "janitza-umg96-pa", "janitza-umg604-pro",
                             "janitza-umg512-pro", "janitza-umg103",   "eastron-sdm630",
                             "eastron-sdm120",     "abb-b23",          "carlo-gavazzi-em24",
                             "schneider-iem3255"};

TEST(BundledProfilesTest, EveryBundledProfileParsesAndPlans) {
  for (const char* id : kBundledIds) {
    auto path = std::filesystem::path(WATTLINE_PROFILES_DIR) / (std::string(id) + ".xml");
    EXPECT_TRUE(ValidateProfileFile(path).empty()) << id;
    auto p = LoadProfile(path);
    ASSERT_TRUE(p.has_value()) << p.error().ToString();
    EXPECT_EQ(p->id, id);
    ReadPlan plan = PlanReads(*p);
    EXPECT_FALSE(plan.blocks.empty()) << id;
    for (const auto& b : plan.blocks) EXPECT_LE(b.count, p->max_registers) << id;
  }
}

TEST(BundledProfilesTest, RegistryLoadsAllBundledProfiles) {
  ProfileRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(WATTLINE_PROFILES_DIR).ok());
  for (const char* id : kBundledIds) EXPECT_NE(registry.Find(id), nullptr) << id;
}

TEST(BundledProfilesTest, QuirksOfTheThirdPartyMeters) {
  auto sdm = LoadProfile(std::filesystem::path(WATTLINE_PROFILES_DIR) / "eastron-sdm630.xml");
  ASSERT_TRUE(sdm.has_value());
  EXPECT_EQ(sdm->max_registers, 50);
  EXPECT_EQ(sdm->signals[0].function, 4);
  auto iem = LoadProfile(std::filesystem::path(WATTLINE_PROFILES_DIR) / "schneider-iem3255.xml");
  ASSERT_TRUE(iem.has_value());
  EXPECT_EQ(iem->signals[0].address, 2999);  // register 3000, 1-based
  auto em24 = LoadProfile(std::filesystem::path(WATTLINE_PROFILES_DIR) / "carlo-gavazzi-em24.xml");
  ASSERT_TRUE(em24.has_value());
  EXPECT_EQ(em24->signals[0].word_order, modbus::WordOrder::kCDAB);
  auto umg = LoadProfile(std::filesystem::path(WATTLINE_PROFILES_DIR) / "janitza-umg96rm-e.xml");
  ASSERT_TRUE(umg.has_value());
  ASSERT_TRUE(umg->clock.has_value());
  EXPECT_EQ(umg->clock->address, 20001);
  EXPECT_EQ(umg->clock->write_address, 20003);
}

TEST(ValidateProfileTest, ReportsEveryErrorWithItsLine) {
  auto errors = ValidateProfile(R"(<profile vendor="V" model="M" max-registers="200">
  <signal name="voltage_l1_n" address="0" type="float"/>
  <signal name="watts" address="2" type="float32"/>
  <signal name="current_l1" type="float32"/>
  <clock encoding="bcd" address="10"/>
</profile>)",
                                "b.xml");
  ASSERT_EQ(errors.size(), 5u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("b.xml:1:"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("max-registers"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("b.xml:2:"), std::string::npos) << errors[1];
  EXPECT_NE(errors[1].find("unknown type 'float'"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("b.xml:3:"), std::string::npos) << errors[2];
  EXPECT_NE(errors[2].find("vocabulary"), std::string::npos) << errors[2];
  EXPECT_NE(errors[3].find("b.xml:4:"), std::string::npos) << errors[3];
  EXPECT_NE(errors[3].find("address"), std::string::npos) << errors[3];
  EXPECT_NE(errors[4].find("b.xml:5:"), std::string::npos) << errors[4];
  EXPECT_NE(errors[4].find("encoding"), std::string::npos) << errors[4];
}

TEST(ValidateProfileTest, ParseProfileCarriesAllErrors) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M">
  <signal name="nope" address="0" type="uint16"/>
  <signal name="frequency" address="1" type="uint16" invert="maybe"/>
</profile>)",
                        "", "c.xml");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("c.xml:2:"), std::string::npos) << p.error().message();
  EXPECT_NE(p.error().message().find("c.xml:3:"), std::string::npos) << p.error().message();
}

TEST(ValidateProfileTest, UnreadableFileIsOneError) {
  EXPECT_EQ(ValidateProfileFile("/nonexistent/x.xml").size(), 1u);
}

TEST(ProfileFormatTest, ParsesEveryElementAndAttribute) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M" max-registers="60" word-order="CDAB"
         address-base="1" max-gap="4" pause-ms="20">
  <identify>
    <device-id object="0" value="V"/>
    <device-id object="1" prefix="M"/>
    <register fc="4" address="101" type="uint16" value="7"/>
    <register address="103" type="float32" min="45" max="65"/>
  </identify>
  <forbidden fc="3" from="11" to="20"/>
  <clock encoding="ymdhms-u16" address="513" year-base="2000"/>
  <history signal="active_energy_import" address="1001" type="float32" records="96"
           interval-minutes="15" scale="1000"/>
  <signal name="active_energy_import" address="1" type="uint32" kind="counter" unit="Wh"
          scale="2" offset="1" invert="true" invalid="0xFFFFFFFF -1" word-order="ABCD"/>
  <signal name="active_power_total" fc="4" address="5" type="int16" scale-register="7"/>
  <signal name="serial_number" address="31" type="string" length="8"/>
  <signal name="rotation_field" address="9" type="bitfield" bit="3"/>
</profile>)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(p->pause_ms, 20);
  ASSERT_EQ(p->device_id_rules.size(), 2u);
  EXPECT_TRUE(p->device_id_rules[1].prefix);
  ASSERT_EQ(p->register_rules.size(), 2u);
  EXPECT_EQ(p->register_rules[0].function, 4);
  EXPECT_EQ(p->register_rules[0].address, 100);
  EXPECT_EQ(p->register_rules[1].word_order, modbus::WordOrder::kCDAB);
  ASSERT_EQ(p->forbidden.size(), 1u);
  EXPECT_EQ(p->forbidden[0].first, 10);
  ASSERT_TRUE(p->clock.has_value());
  EXPECT_EQ(p->clock->encoding, ClockSpec::Encoding::kYmdhmsU16);
  EXPECT_EQ(p->clock->address, 512);
  EXPECT_EQ(p->clock->year_base, 2000);
  ASSERT_TRUE(p->history.has_value());
  EXPECT_EQ(p->history->records, 96);
  const auto& e = p->signals[0];
  EXPECT_TRUE(e.invert);
  EXPECT_DOUBLE_EQ(e.offset, 1);
  ASSERT_EQ(e.invalid.size(), 2u);
  EXPECT_EQ(e.invalid[1], 0xFFFFFFFFu);
  EXPECT_EQ(p->signals[1].scale_register, 6);
  EXPECT_EQ(p->signals[2].format, SignalFormat::kString);
  EXPECT_EQ(p->signals[2].RegisterCount(), 8);
  EXPECT_EQ(p->signals[3].format, SignalFormat::kBitfield);
  EXPECT_EQ(p->signals[3].bit, 3);
}

TEST(ProfileFormatTest, SignalInForbiddenRangeIsRejected) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M">
  <forbidden from="10" to="20"/>
  <signal name="frequency" address="19" type="float32"/>
</profile>)");
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message().find("forbidden"), std::string::npos);
}

TEST(ProfileFormatTest, NumericStringIsRejected) {
  EXPECT_FALSE(ParseProfile(R"(<profile vendor="V" model="M">
  <signal name="frequency" address="1" type="string" length="2"/>
</profile>)")
                   .has_value());
  EXPECT_FALSE(ParseProfile(R"(<profile vendor="V" model="M">
  <signal name="serial_number" address="1" type="string"/>
</profile>)")
                   .has_value());
}

TEST(ProfileFormatTest, PlannerDoesNotSpanForbiddenRanges) {
  auto p = ParseProfile(R"(<profile vendor="V" model="M" max-gap="20">
  <forbidden from="4" to="5"/>
  <signal name="current_l1" address="0" type="float32"/>
  <signal name="current_l2" address="8" type="float32"/>
</profile>)");
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  EXPECT_EQ(PlanReads(*p).blocks.size(), 2u);
}

// One profile with a single bad element inside an otherwise valid profile; returns the errors.
std::vector<std::string> ErrorsOf(const std::string& element) {
  return ValidateProfile("<profile vendor=\"V\" model=\"M\">\n" + element +
                             "\n<signal name=\"frequency\" address=\"900\" type=\"uint16\"/>"
                             "\n</profile>",
                         "e.xml");
}

void ExpectOneErrorOnLine2(const std::string& element, const std::string& what) {
  auto errors = ErrorsOf(element);
  ASSERT_EQ(errors.size(), 1u) << element << ": " << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("e.xml:2:"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find(what), std::string::npos) << errors[0];
}

TEST(ProfileErrorTest, InvalidSentinelNotANumber) {
  ExpectOneErrorOnLine2(
      R"(<signal name="current_l1" address="0" type="uint16" invalid="0xFFFF x"/>)",
      "'x' is not an integer");
}

TEST(ProfileErrorTest, InvalidSentinelTooWide) {
  ExpectOneErrorOnLine2(
      R"(<signal name="current_l1" address="0" type="uint16" invalid="0x1FFFF"/>)",
      "does not fit in 16 bits");
}

TEST(ProfileErrorTest, BitfieldWithoutBit) {
  ExpectOneErrorOnLine2(R"(<signal name="rotation_field" address="0" type="bitfield"/>)",
                        "needs 'bit'");
}

TEST(ProfileErrorTest, BitOutsideBitfield) {
  ExpectOneErrorOnLine2(R"(<signal name="rotation_field" address="0" type="bitfield" bit="16"/>)",
                        "outside a 1-register bitfield");
}

TEST(ProfileErrorTest, StringWithoutLength) {
  ExpectOneErrorOnLine2(R"(<signal name="model_name" address="0" type="string"/>)",
                        "needs 'length'");
}

TEST(ProfileErrorTest, StringWithScale) {
  ExpectOneErrorOnLine2(
      R"(<signal name="model_name" address="0" type="string" length="4" scale="2"/>)",
      "a string has no scale");
}

TEST(ProfileErrorTest, BadInvert) {
  ExpectOneErrorOnLine2(R"(<signal name="current_l1" address="0" type="int16" invert="yes"/>)",
                        "not true or false");
}

TEST(ProfileErrorTest, DeviceIdWithoutValueOrPrefix) {
  ExpectOneErrorOnLine2(R"(<identify><device-id object="0"/></identify>)",
                        "exactly one of 'value' and 'prefix'");
}

TEST(ProfileErrorTest, RegisterRuleWithoutRange) {
  ExpectOneErrorOnLine2(R"(<identify><register address="0" type="uint16" min="1"/></identify>)",
                        "either 'value' or both 'min' and 'max'");
}

TEST(ProfileErrorTest, ForbiddenRangeBackwards) {
  ExpectOneErrorOnLine2(R"(<forbidden from="10" to="5"/>)", "'to' is before 'from'");
}

TEST(ProfileErrorTest, ClockWithoutAddress) {
  ExpectOneErrorOnLine2(R"(<clock encoding="epoch-u32"/>)", "missing attribute 'address'");
}

TEST(ProfileErrorTest, HistoryOfUndefinedSignal) {
  auto errors = ErrorsOf(
      R"(<history signal="active_energy_import" address="0" type="float32" records="96"/>)");
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("is not defined"), std::string::npos) << errors[0];
}

TEST(ProfileErrorTest, TwoClocks) {
  auto errors = ErrorsOf(
      R"(<clock encoding="epoch-u32" address="1"/><clock encoding="epoch-u32" address="3"/>)");
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(errors);
  EXPECT_NE(errors[0].find("more than one <clock>"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace wattline::profiles
