#include "core/testing/fault_injection_env.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace wattline::test {
namespace {

namespace fs = std::filesystem;

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "wattline-env-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& path, std::string_view data, bool sync) {
    auto f = env_.NewAppendableFile(path);
    ASSERT_TRUE(f) << f.error().ToString();
    ASSERT_TRUE((*f)->Append(data).ok());
    if (sync) {
      ASSERT_TRUE((*f)->Sync().ok());
    }
    ASSERT_TRUE((*f)->Close().ok());
  }
  std::string Read(const std::string& path) { return env_.ReadFileToString(path).value_or("?"); }

  FaultInjectionEnv env_;
  std::string dir_;
};

TEST_F(FaultInjectionEnvTest, KeepsSyncedBytesDropsTheRest) {
  std::string a = dir_ + "/a";
  Write(a, "durable", true);
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  Write(a, "-lost", false);
  EXPECT_EQ(Read(a), "durable-lost");
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Read(a), "durable");
}

TEST_F(FaultInjectionEnvTest, NewFileWithoutDirSyncVanishesEvenIfSynced) {
  std::string a = dir_ + "/a";
  Write(a, "synced", true);
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_FALSE(env_.FileExists(a));
}

TEST_F(FaultInjectionEnvTest, RenameCarriesStateToTheNewName) {
  std::string tmp = dir_ + "/x.tmp", x = dir_ + "/x";
  Write(tmp, "v1", true);
  ASSERT_TRUE(env_.RenameFile(tmp, x).ok());
  ASSERT_TRUE(env_.SyncDir(dir_ + "/").ok());  // trailing slash names the same directory
  Write(x, "+unsynced", false);
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_FALSE(env_.FileExists(tmp));
  EXPECT_EQ(Read(x), "v1");
}

TEST_F(FaultInjectionEnvTest, FilesItNeverWroteAreDurable) {
  std::string a = dir_ + "/a";
  ASSERT_TRUE(PosixEnv()->NewAppendableFile(a).value()->Append("before").ok());
  Write(a, "+after", false);
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Read(a), "before");
}

TEST_F(FaultInjectionEnvTest, TruncateIsDurable) {
  std::string a = dir_ + "/a";
  Write(a, "0123456789", false);
  ASSERT_TRUE(env_.SyncDir(dir_).ok());
  ASSERT_TRUE(env_.TruncateFile(a, 4).ok());
  ASSERT_TRUE(env_.DropUnsyncedData().ok());
  EXPECT_EQ(Read(a), "0123");
}

TEST(PosixEnvTest, ReportsMissingFilesAsNotFound) {
  Env* env = PosixEnv();
  EXPECT_EQ(env->ReadFileToString("/nonexistent/x").error().code(), Code::kNotFound);
  EXPECT_EQ(env->GetFileSize("/nonexistent/x").error().code(), Code::kNotFound);
  EXPECT_EQ(env->RemoveFile("/nonexistent/x").code(), Code::kNotFound);
  EXPECT_EQ(env->GetChildren("/nonexistent").error().code(), Code::kNotFound);
  EXPECT_FALSE(env->FileExists("/nonexistent/x"));
}

TEST_F(FaultInjectionEnvTest, ReadFileRangeStopsAtEnd) {
  std::string a = dir_ + "/a";
  Write(a, "0123456789", false);
  EXPECT_EQ(env_.ReadFileRange(a, 3, 4).value(), "3456");
  EXPECT_EQ(env_.ReadFileRange(a, 8, 100).value(), "89");
  EXPECT_EQ(env_.ReadFileRange(a, 20, 5).value(), "");
  EXPECT_EQ(env_.GetFileSize(a).value(), 10u);
  auto children = env_.GetChildren(dir_);
  ASSERT_TRUE(children);
  EXPECT_EQ(*children, std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace wattline::test
