#include "core/flags.h"

#include <charconv>
#include <functional>
#include <iostream>
#include <sstream>

namespace wattline {

Options::Options(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {
  Add("config", "", "TOML config file; flags override its values");
  Add("log_level", "info", "trace, debug, info, warn, error, critical or off");
}

void Options::Add(const std::string& name, const std::string& default_value,
                  const std::string& help) {
  entries_[name] = Entry{default_value, default_value, help};
}

std::string Options::Help() const {
  std::ostringstream out;
  out << "Usage: " << program_ << " [options]\n" << summary_ << "\n\nOptions:\n";
  for (const auto& [name, e] : entries_) {
    out << "  --" << name << "=VALUE\n      " << e.help;
    if (!e.default_value.empty()) out << " (default: " << e.default_value << ")";
    out << "\n";
  }
  out << "  --help\n      print this help and exit\n";
  return out.str();
}

Status Options::Set(const std::string& name, const std::string& value, const std::string& origin) {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return InvalidArgument("unknown option '" + name + "' in " + origin + " (see --help)");
  }
  it->second.value = value;
  return Status::Ok();
}

Status Options::LoadToml(const std::string& path) {
  // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
  try {
    toml_ = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    std::ostringstream msg;
    msg << "config file " << path << " line " << err.source().begin.line << ": "
        << err.description();
    return InvalidArgument(msg.str());
  }
  // Flatten scalar values into options; arrays of tables are left for the program.
  Status status;
  std::function<void(const toml::table&, const std::string&)> visit =
      [&](const toml::table& table, const std::string& prefix) {
        for (const auto& [key, node] : table) {
          std::string name =
              prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
          if (const auto* sub = node.as_table()) {
            visit(*sub, name);
          } else if (node.is_array()) {
            continue;
          } else {
            std::string value;
            if (auto s = node.value<std::string>()) {
              value = *s;
            } else if (auto b = node.value<bool>(); b && node.is_boolean()) {
              value = *b ? "true" : "false";
            } else if (auto i = node.value<int64_t>(); i && node.is_integer()) {
              value = std::to_string(*i);
            } else if (auto d = node.value<double>()) {
              std::ostringstream o;
              o << *d;
              value = o.str();
            }
            if (!entries_.count(name)) {
              if (status.ok()) status = InvalidArgument("unknown option '" + name + "' in " + path);
              continue;
            }
            entries_[name].value = value;
          }
        }
      };
  visit(toml_, "");
  return status;
}

Status Options::Parse(int argc, char** argv, std::vector<std::string>* positional) {
  std::vector<std::pair<std::string, std::string>> flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << Help();
      return Status(Code::kCancelled, "help printed");
    }
    if (arg.rfind("--", 0) != 0) {
      if (!positional) return InvalidArgument("unexpected argument '" + arg + "' (see --help)");
      positional->push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (IsBoolean(name) &&
               (i + 1 >= argc || std::string_view(argv[i + 1]).rfind("--", 0) == 0)) {
      value = "true";  // a bare boolean flag: --quick
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return InvalidArgument("option --" + name + " needs a value");
    }
    if (!entries_.count(name)) return InvalidArgument("unknown option --" + name + " (see --help)");
    flags.emplace_back(name, value);
  }
  for (const auto& [name, value] : flags) {
    if (name == "config") {
      if (Status s = LoadToml(value); !s.ok()) return s;
    }
  }
  for (const auto& [name, value] : flags) {
    if (Status s = Set(name, value, "command line"); !s.ok()) return s;
  }
  return Status::Ok();
}

bool Options::IsBoolean(const std::string& name) const {
  auto it = entries_.find(name);
  return it != entries_.end() &&
         (it->second.default_value == "true" || it->second.default_value == "false");
}

const std::string& Options::Get(const std::string& name) const { return entries_.at(name).value; }

Result<int64_t> Options::GetInt(const std::string& name) const {
  const std::string& v = Get(name);
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size()) {
    return Fail(InvalidArgument("option " + name + " must be an integer, got '" + v + "'"));
  }
  return out;
}

Result<double> Options::GetDouble(const std::string& name) const {
  const std::string& v = Get(name);
  try {
    size_t used = 0;
    double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  return Fail(InvalidArgument("option " + name + " must be a number, got '" + v + "'"));
}

Result<bool> Options::GetBool(const std::string& name) const {
  const std::string& v = Get(name);
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  return Fail(InvalidArgument("option " + name + " must be true or false, got '" + v + "'"));
}

std::vector<std::string> SplitCommaList(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace wattline
