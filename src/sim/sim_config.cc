#include "sim/sim_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace wattline::sim {
namespace {

// The [[name]] tables of `config`, or an error when `name` is something else.
Result<std::vector<const toml::table*>> Tables(const toml::table& config, std::string_view name) {
  std::vector<const toml::table*> out;
  const toml::node* node = config.get(name);
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    return Fail(InvalidArgument(fmt::format("'{}' must be a list of [[{}]] tables", name, name)));
  }
  for (const auto& item : *array) {
    if (!item.is_table()) {
      return Fail(InvalidArgument(fmt::format("'{}' must be a list of [[{}]] tables", name, name)));
    }
    out.push_back(item.as_table());
  }
  return out;
}

Status CheckKeys(const toml::table& table, const std::string& where,
                 std::initializer_list<std::string_view> known) {
  for (const auto& [key, node] : table) {
    if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
      return InvalidArgument(fmt::format("{}: unknown key '{}'", where, key.str()));
    }
  }
  return Status::Ok();
}

Status Integer(const toml::table& table, const std::string& where, std::string_view key,
               int64_t min, int64_t max, int64_t& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  if (!node->is_integer()) {
    return InvalidArgument(fmt::format("{}: {} must be an integer", where, key));
  }
  int64_t v = *node->value<int64_t>();
  if (v < min || v > max) {
    return InvalidArgument(fmt::format("{}: {} = {} outside {}..{}", where, key, v, min, max));
  }
  out = v;
  return Status::Ok();
}

Status Rate(const toml::table& table, const std::string& where, std::string_view key, double& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  if (!node->is_number())
    return InvalidArgument(fmt::format("{}: {} must be a number", where, key));
  double v = *node->value<double>();
  if (!(v >= 0 && v <= 1)) {
    return InvalidArgument(fmt::format("{}: {} = {} outside 0..1", where, key, v));
  }
  out = v;
  return Status::Ok();
}

// About ten years either way.
constexpr int64_t kMaxClockOffset_s = 315360000;

Result<MeterFault> ParseFault(const toml::table& t, size_t index) {
  std::string where = fmt::format("[[fault]] #{}", index + 1);
  if (Status s = CheckKeys(
          t, where,
          {"meter", "latency_ms", "timeout_rate", "exception_rate", "exception", "drop_rate",
           "wrong_tid_rate", "garbage_rate", "max_read_registers", "clock_offset_s"});
      !s.ok()) {
    return Fail(s);
  }
  MeterFault f;
  auto meter = t["meter"].value<std::string>();
  if (!meter || meter->empty()) {
    return Fail(InvalidArgument(where + ": meter = \"meter-NN\" is required"));
  }
  f.meter = *meter;
  where = fmt::format("[[fault]] {}", f.meter);
  FaultConfig& c = f.config;
  int64_t latency = 0, exception = c.exception, max_read = 0;
  for (Status s :
       {Integer(t, where, "latency_ms", 0, 600000, latency),
        Rate(t, where, "timeout_rate", c.timeout_rate),
        Rate(t, where, "exception_rate", c.exception_rate),
        Integer(t, where, "exception", 0, 255, exception), Rate(t, where, "drop_rate", c.drop_rate),
        Rate(t, where, "wrong_tid_rate", c.wrong_tid_rate),
        Rate(t, where, "garbage_rate", c.garbage_rate),
        Integer(t, where, "max_read_registers", 0, 125, max_read),
        Integer(t, where, "clock_offset_s", -kMaxClockOffset_s, kMaxClockOffset_s,
                c.clock_offset_s)}) {
    if (!s.ok()) return Fail(s);
  }
  if (exception != 2 && exception != 4 && exception != 6 && exception != 0x0B) {
    return Fail(InvalidArgument(
        fmt::format("{}: exception = {} is not 2, 4, 6 or 0x0B", where, exception)));
  }
  c.latency = std::chrono::milliseconds(latency);
  c.exception = static_cast<uint8_t>(exception);
  c.max_read_registers = static_cast<uint16_t>(max_read);
  return f;
}

Result<GatewaySpec> ParseGateway(const toml::table& t, size_t index,
                                 const profiles::ProfileRegistry* profiles) {
  std::string where = fmt::format("[[gateway]] #{}", index + 1);
  if (Status s = CheckKeys(t, where, {"port", "baud", "meters"}); !s.ok()) return Fail(s);
  GatewaySpec g;
  int64_t port = 0, baud = g.baud;
  for (Status s :
       {Integer(t, where, "port", 0, 65535, port), Integer(t, where, "baud", 300, 1000000, baud)}) {
    if (!s.ok()) return Fail(s);
  }
  g.port = static_cast<uint16_t>(port);
  g.baud = static_cast<uint32_t>(baud);
  const toml::array* meters = t["meters"].as_array();
  if (meters == nullptr || meters->empty()) {
    return Fail(InvalidArgument(
        where + ": meters = [\"profile:count\", ...] is required (e.g. \"eastron-sdm630:3\")"));
  }
  int total = 0;
  for (const auto& item : *meters) {
    auto text = item.value<std::string>();
    if (!text || !item.is_string()) {
      return Fail(InvalidArgument(where + ": meters must be strings like \"eastron-sdm630:3\""));
    }
    auto types = ParseMeterTypes(*text);
    if (!types) return Fail(InvalidArgument(where + ": " + types.error().message()));
    if (types->size() != 1) {
      return Fail(InvalidArgument(
          fmt::format("{}: meters entry '{}' must be one \"profile:count\"", where, *text)));
    }
    const auto& type = types->front();
    if (profiles ? profiles->Find(type.profile) == nullptr : type.profile != kDefaultMeterType) {
      return Fail(InvalidArgument(fmt::format("{}: unknown meter type '{}'{}", where, type.profile,
                                              profiles ? "" : " (no profile directory)")));
    }
    total += type.count;
    g.meters.push_back(type);
  }
  if (total > 247) {
    return Fail(
        InvalidArgument(fmt::format("{}: {} meters, at most 247 (unit ids)", where, total)));
  }
  return g;
}

}  // namespace

Result<std::vector<MeterFault>> ParseFaults(const toml::table& config) {
  auto tables = Tables(config, "fault");
  if (!tables) return Fail(tables.error());
  std::vector<MeterFault> out;
  for (size_t i = 0; i < tables->size(); ++i) {
    auto f = ParseFault(*(*tables)[i], i);
    if (!f) return Fail(f.error());
    for (const auto& earlier : out) {
      if (earlier.meter == f->meter) {
        return Fail(InvalidArgument(fmt::format("[[fault]] {} given twice", f->meter)));
      }
    }
    out.push_back(std::move(*f));
  }
  return out;
}

Result<SimConfig> ParseSimConfig(const toml::table& config,
                                 const profiles::ProfileRegistry* profiles) {
  SimConfig out;
  auto tables = Tables(config, "gateway");
  if (!tables) return Fail(tables.error());
  for (size_t i = 0; i < tables->size(); ++i) {
    auto g = ParseGateway(*(*tables)[i], i, profiles);
    if (!g) return Fail(g.error());
    out.gateways.push_back(std::move(*g));
  }
  auto faults = ParseFaults(config);
  if (!faults) return Fail(faults.error());
  out.faults = std::move(*faults);
  return out;
}

Result<std::vector<MeterFault>> LoadFaults(const std::string& path) {
  toml::table table;
  // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    std::ostringstream msg;
    msg << "config file " << path << " line " << err.source().begin.line << ": "
        << err.description();
    return Fail(InvalidArgument(msg.str()));
  }
  return ParseFaults(table);
}

}  // namespace wattline::sim
