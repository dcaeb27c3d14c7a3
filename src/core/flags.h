// Options: a program's settings, from (lowest to highest priority) built-in defaults, a TOML
// config file (--config FILE) and command-line flags (--name=value or --name value).
// Nested TOML keys are addressed with dots: [uplink] url = "..." is the option "uplink.url",
// given on the command line as --uplink.url=... . Lists of tables (such as [[meter]]) are read
// from toml() by the program itself.
// Thread-safety: fill and parse on one thread; afterwards reads are safe from any thread.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wattline {

class Options {
 public:
  Options(std::string program, std::string summary);

  // Declares an option. `name` may contain dots for nested TOML tables.
  void Add(const std::string& name, const std::string& default_value, const std::string& help);

  // Parses argv[1..]. An option whose default is "true" or "false" may be given bare
  // (--quick) to mean true. Words that do not start with "--" go to `positional` (an error when
  // positional is null). Returns kCancelled after printing the help for --help,
  // kInvalidArgument for an unknown option, a missing value or an unreadable config file.
  Status Parse(int argc, char** argv, std::vector<std::string>* positional = nullptr);

  const std::string& program() const { return program_; }

  // The help text (also printed by --help).
  std::string Help() const;

  // REQUIRES: `name` was declared with Add.
  const std::string& Get(const std::string& name) const;
  // Returns kInvalidArgument, naming the option, when the value is not a number / boolean.
  Result<int64_t> GetInt(const std::string& name) const;
  Result<double> GetDouble(const std::string& name) const;
  Result<bool> GetBool(const std::string& name) const;

  // The loaded config file (empty when none was given).
  const toml::table& toml() const { return toml_; }

 private:
  struct Entry {
    std::string value;
    std::string default_value;
    std::string help;
  };
  bool IsBoolean(const std::string& name) const;
  Status Set(const std::string& name, const std::string& value, const std::string& origin);
  Status LoadToml(const std::string& path);

  std::string program_;
  std::string summary_;
  std::map<std::string, Entry> entries_;
  toml::table toml_;
};

// "a,b,,c" -> {"a", "b", "c"}: a comma-separated option value, empty items left out.
std::vector<std::string> SplitCommaList(std::string_view text);

}  // namespace wattline
