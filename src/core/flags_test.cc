#include "core/flags.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace wattline {
namespace {

// Parses a command line given as words (argv[0] is added).
Status ParseWords(Options& o, std::vector<std::string> words,
                  std::vector<std::string>* positional = nullptr) {
  words.insert(words.begin(), "prog");
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  return o.Parse(static_cast<int>(argv.size()), argv.data(), positional);
}

Options MakeOptions() {
  Options o("prog", "test program");
  o.Add("listen", "127.0.0.1:8443", "where");
  o.Add("uplink.url", "https://x", "server");
  o.Add("quick", "false", "smoke run");
  o.Add("count", "3", "how many");
  return o;
}

TEST(OptionsTest, DefaultsFlagsAndBothSyntaxes) {
  Options o = MakeOptions();
  ASSERT_TRUE(ParseWords(o, {"--listen=0.0.0.0:1", "--count", "7"}).ok());
  EXPECT_EQ(o.Get("listen"), "0.0.0.0:1");
  EXPECT_EQ(*o.GetInt("count"), 7);
  EXPECT_EQ(o.Get("uplink.url"), "https://x");
  EXPECT_FALSE(*o.GetBool("quick"));
}

TEST(OptionsTest, BareBooleanFlagMeansTrue) {
  Options o = MakeOptions();
  ASSERT_TRUE(ParseWords(o, {"--quick", "--count", "2"}).ok());
  EXPECT_TRUE(*o.GetBool("quick"));
  Options last = MakeOptions();
  ASSERT_TRUE(ParseWords(last, {"--quick"}).ok());
  EXPECT_TRUE(*last.GetBool("quick"));
}

TEST(OptionsTest, UnknownOptionAndMissingValueAreErrors) {
  Options o = MakeOptions();
  Status s = ParseWords(o, {"--nope=1"});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("nope"), std::string::npos);
  Options m = MakeOptions();
  EXPECT_EQ(ParseWords(m, {"--count"}).code(), Code::kInvalidArgument);
}

TEST(OptionsTest, PositionalWordsOnlyWhenAllowed) {
  Options o = MakeOptions();
  EXPECT_EQ(ParseWords(o, {"extra"}).code(), Code::kInvalidArgument);
  std::vector<std::string> pos;
  Options p = MakeOptions();
  ASSERT_TRUE(ParseWords(p, {"profile", "check", "--count=1"}, &pos).ok());
  EXPECT_EQ(pos, (std::vector<std::string>{"profile", "check"}));
}

TEST(OptionsTest, BadNumberNamesTheOption) {
  Options o = MakeOptions();
  ASSERT_TRUE(ParseWords(o, {"--count=x"}).ok());
  auto n = o.GetInt("count");
  ASSERT_FALSE(n);
  EXPECT_NE(n.error().message().find("count"), std::string::npos);
}

class OptionsFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    path_ = std::filesystem::temp_directory_path() /
            ("wl-flags-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml");
    std::ofstream(path_) << text;
    return path_.string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(OptionsFileTest, ConfigFileSetsValuesAndFlagsOverrideIt) {
  std::string file =
      Write("listen = \"1.2.3.4:5\"\ncount = 9\n[uplink]\nurl = \"https://srv:1\"\n");
  Options o = MakeOptions();
  ASSERT_TRUE(ParseWords(o, {"--count=4", "--config", file}).ok());
  EXPECT_EQ(o.Get("listen"), "1.2.3.4:5");
  EXPECT_EQ(o.Get("uplink.url"), "https://srv:1");
  EXPECT_EQ(*o.GetInt("count"), 4);
}

TEST_F(OptionsFileTest, SyntaxErrorNamesTheLine) {
  std::string file = Write("listen = \"ok\"\ncount = = 3\n");
  Options o = MakeOptions();
  Status s = ParseWords(o, {"--config", file});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
}

TEST_F(OptionsFileTest, UnknownKeyInFileIsAnError) {
  std::string file = Write("lisen = \"typo\"\n");
  Options o = MakeOptions();
  Status s = ParseWords(o, {"--config", file});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("lisen"), std::string::npos);
}

}  // namespace
}  // namespace wattline
