#include "profiles/profile_registry.h"

#include <gtest/gtest.h>

#include <fstream>

namespace wattline::profiles {
namespace {

TEST(ProfileRegistryTest, LoadsBundledProfiles) {
  ProfileRegistry registry;
  ASSERT_TRUE(registry.LoadDirectory(WATTLINE_PROFILES_DIR).ok());
  const Profile* p = registry.Find("janitza-umg96rm-e");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->model, "UMG 96RM-E");
  EXPECT_EQ(registry.Find("nope"), nullptr);
}

TEST(ProfileRegistryTest, BadFileFailsWithItsName) {
  auto dir =
      std::filesystem::temp_directory_path() / ("wattline-registry-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "broken.xml") << "<profile vendor=\"V\">\n<oops";
  std::ofstream(dir / "ignored.txt") << "not a profile";
  ProfileRegistry registry;
  Status s = registry.LoadDirectory(dir);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("broken.xml:2"), std::string::npos) << s.message();
}

TEST(ProfileRegistryTest, MissingDirectoryIsNotFound) {
  ProfileRegistry registry;
  EXPECT_EQ(registry.LoadDirectory("/nonexistent-dir").code(), Code::kNotFound);
}

TEST(ProfileRegistryTest, DuplicateIdIsRejected) {
  ProfileRegistry registry;
  Profile p;
  p.id = "x";
  EXPECT_TRUE(registry.Add(p).ok());
  EXPECT_EQ(registry.Add(p).code(), Code::kAlreadyExists);
}

}  // namespace
}  // namespace wattline::profiles
