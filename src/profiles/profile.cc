#include "profiles/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <pugixml.hpp>
#include <set>
#include <sstream>

#include "profiles/vocabulary.h"

namespace wattline::profiles {
namespace {

// pugixml reports byte offsets; people want line numbers.
int LineAt(std::string_view text, ptrdiff_t offset) {
  if (offset < 0) return 0;
  size_t end = std::min(text.size(), static_cast<size_t>(offset));
  return 1 + static_cast<int>(
                 std::count(text.begin(), text.begin() + static_cast<ptrdiff_t>(end), '\n'));
}

// Parses "123", "0x7B" or (when allow_negative) "-5" into a 64-bit value.
std::optional<int64_t> ParseInteger(std::string_view v, bool allow_negative) {
  bool negative = false;
  if (allow_negative && !v.empty() && v[0] == '-') {
    negative = true;
    v.remove_prefix(1);
  }
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    base = 16;
    v.remove_prefix(2);
  }
  uint64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  if (out > static_cast<uint64_t>(INT64_MAX)) {
    // Only a full 64-bit sentinel pattern (0xFFFF...) needs this; keep its bits.
    if (negative) return std::nullopt;
    return static_cast<int64_t>(out);
  }
  return negative ? -static_cast<int64_t>(out) : static_cast<int64_t>(out);
}

// The parser records every problem and carries on with the next element, so that one run of
// `profile check` shows them all. Helpers return nullopt after recording an error.
class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  std::vector<std::string> errors;

  void Error(const pugi::xml_node& node, const std::string& what) {
    errors.push_back(fmt::format("{}:{}: {}", source_, LineAt(text_, node.offset_debug()), what));
  }

  void CheckAttributes(const pugi::xml_node& node,
                       std::initializer_list<std::string_view> allowed) {
    for (const auto& attr : node.attributes()) {
      if (std::find(allowed.begin(), allowed.end(), attr.name()) == allowed.end()) {
        Error(node, fmt::format("<{}>: unknown attribute '{}'", node.name(), attr.name()));
      }
    }
  }

  std::optional<std::string> Required(const pugi::xml_node& node, const char* name,
                                      std::string_view what) {
    auto attr = node.attribute(name);
    if (!attr) {
      Error(node, fmt::format("{}: missing attribute '{}'", what, name));
      return std::nullopt;
    }
    return std::string(attr.value());
  }

  // An unsigned integer attribute (decimal or 0x hex) in [lo, hi]; `fallback` when absent.
  std::optional<uint32_t> Unsigned(const pugi::xml_node& node, const char* name, uint32_t fallback,
                                   uint32_t lo, uint32_t hi) {
    auto attr = node.attribute(name);
    if (!attr) return fallback;
    std::string_view v = attr.value();
    auto out = ParseInteger(v, false);
    if (!out || *out < lo || *out > hi) {
      Error(node, fmt::format("<{}>: {}=\"{}\" is not an integer in {}..{}", node.name(), name, v,
                              lo, hi));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*out);
  }

  std::optional<double> Number(const pugi::xml_node& node, const char* name, double fallback) {
    auto attr = node.attribute(name);
    if (!attr) return fallback;
    std::string_view v = attr.value();
    double out = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || !std::isfinite(out)) {
      Error(node, fmt::format("<{}>: {}=\"{}\" is not a number", node.name(), name, v));
      return std::nullopt;
    }
    return out;
  }

  std::optional<bool> Boolean(const pugi::xml_node& node, const char* name) {
    std::string_view v = node.attribute(name).as_string("false");
    if (v == "true") return true;
    if (v == "false") return false;
    Error(node, fmt::format("<{}>: {}=\"{}\" is not true or false", node.name(), name, v));
    return std::nullopt;
  }

  std::optional<uint8_t> Function(const pugi::xml_node& node) {
    auto fc = Unsigned(node, "fc", 3, 3, 4);
    if (!fc) return std::nullopt;
    return static_cast<uint8_t>(*fc);
  }

  // A register address attribute, converted to a protocol address.
  std::optional<uint16_t> Address(const pugi::xml_node& node, const char* name, const Profile& p) {
    auto a = Unsigned(node, name, p.address_base, p.address_base, 65535u + p.address_base);
    if (!a) return std::nullopt;
    return static_cast<uint16_t>(*a - p.address_base);
  }

  std::optional<modbus::WordOrder> Order(const pugi::xml_node& node, modbus::WordOrder fallback) {
    auto wo = node.attribute("word-order");
    if (!wo) return fallback;
    auto order = modbus::ParseWordOrder(wo.value());
    if (!order) {
      Error(node, order.error().message());
      return std::nullopt;
    }
    return *order;
  }

  std::optional<Profile> Parse(std::string id) {
    pugi::xml_document doc;
    pugi::xml_parse_result parsed = doc.load_buffer(text_.data(), text_.size());
    if (!parsed) {
      errors.push_back(fmt::format("{}:{}: XML error: {}", source_, LineAt(text_, parsed.offset),
                                   parsed.description()));
      return std::nullopt;
    }
    pugi::xml_node root = doc.document_element();
    if (std::string_view(root.name()) != "profile") {
      Error(root, fmt::format("root element is <{}>, expected <profile>", root.name()));
      return std::nullopt;
    }
    CheckAttributes(root, {"vendor", "model", "max-registers", "word-order", "address-base",
                           "max-gap", "pause-ms"});
    Profile p;
    p.id = std::move(id);
    p.vendor = Required(root, "vendor", "<profile>").value_or("");
    p.model = Required(root, "model", "<profile>").value_or("");
    p.max_registers =
        static_cast<uint16_t>(Unsigned(root, "max-registers", 125, 1, 125).value_or(125));
    p.max_gap = static_cast<uint16_t>(Unsigned(root, "max-gap", 0, 0, 124).value_or(0));
    p.pause_ms = static_cast<uint16_t>(Unsigned(root, "pause-ms", 0, 0, 10000).value_or(0));
    p.address_base = static_cast<uint16_t>(Unsigned(root, "address-base", 0, 0, 1).value_or(0));
    p.word_order = Order(root, modbus::WordOrder::kABCD).value_or(modbus::WordOrder::kABCD);

    // Forbidden ranges first: signals are checked against them wherever they appear.
    for (pugi::xml_node node : root.children("forbidden")) ParseForbidden(node, p);

    std::set<std::string, std::less<>> names;
    bool seen_identify = false, seen_clock = false, seen_history = false;
    std::vector<pugi::xml_node> scale_users;
    for (pugi::xml_node node : root.children()) {
      if (node.type() != pugi::node_element) continue;
      std::string_view element = node.name();
      if (element == "signal") {
        auto signal = ParseSignal(node, p);
        if (!signal) continue;
        if (!names.insert(signal->name).second) {
          Error(node, fmt::format("duplicate signal '{}'", signal->name));
          continue;
        }
        p.signals.push_back(std::move(*signal));
      } else if (element == "identify") {
        if (seen_identify) Error(node, "more than one <identify>");
        seen_identify = true;
        ParseIdentify(node, p);
      } else if (element == "forbidden") {
        continue;  // parsed above
      } else if (element == "clock") {
        if (seen_clock) Error(node, "more than one <clock>");
        seen_clock = true;
        ParseClock(node, p);
      } else if (element == "history") {
        if (seen_history) Error(node, "more than one <history>");
        seen_history = true;
        ParseHistory(node, p);
      } else {
        Error(node, fmt::format("unknown element <{}> (expected <signal>, <identify>, "
                                "<forbidden>, <clock> or <history>)",
                                element));
      }
    }
    if (p.signals.empty() && errors.empty()) Error(root, "profile has no <signal>");
    if (p.history && !names.count(p.history->signal)) {
      Error(root, fmt::format("<history>: signal '{}' is not defined", p.history->signal));
    }
    if (!errors.empty()) return std::nullopt;
    return p;
  }

 private:
  void ParseForbidden(const pugi::xml_node& node, Profile& p) {
    CheckAttributes(node, {"fc", "from", "to"});
    auto fc = Function(node);
    if (!node.attribute("from") || !node.attribute("to")) {
      Error(node, "<forbidden>: needs attributes 'from' and 'to'");
      return;
    }
    auto from = Address(node, "from", p);
    auto to = Address(node, "to", p);
    if (!fc || !from || !to) return;
    if (*to < *from) {
      Error(node, "<forbidden>: 'to' is before 'from'");
      return;
    }
    p.forbidden.push_back({*fc, *from, *to});
  }

  void ParseIdentify(const pugi::xml_node& node, Profile& p) {
    CheckAttributes(node, {});
    for (pugi::xml_node rule : node.children()) {
      if (rule.type() != pugi::node_element) continue;
      std::string_view element = rule.name();
      if (element == "device-id") {
        CheckAttributes(rule, {"object", "value", "prefix"});
        auto object = Unsigned(rule, "object", 0, 0, 255);
        if (!rule.attribute("object")) Error(rule, "<device-id>: missing attribute 'object'");
        bool has_value = rule.attribute("value"), has_prefix = rule.attribute("prefix");
        if (has_value == has_prefix) {
          Error(rule, "<device-id>: give exactly one of 'value' and 'prefix'");
          continue;
        }
        if (!object || !rule.attribute("object")) continue;
        p.device_id_rules.push_back(
            {static_cast<uint8_t>(*object),
             has_value ? rule.attribute("value").value() : rule.attribute("prefix").value(),
             has_prefix});
      } else if (element == "register") {
        CheckAttributes(rule, {"fc", "address", "type", "word-order", "value", "min", "max"});
        RegisterRule r;
        auto fc = Function(rule);
        if (!rule.attribute("address")) Error(rule, "<register>: missing attribute 'address'");
        auto address = Address(rule, "address", p);
        auto type = Required(rule, "type", "<register>");
        auto order = Order(rule, p.word_order);
        bool has_value = rule.attribute("value");
        bool has_range = rule.attribute("min") && rule.attribute("max");
        if (has_value == has_range || (rule.attribute("min") && !rule.attribute("max")) ||
            (!rule.attribute("min") && rule.attribute("max"))) {
          Error(rule, "<register>: give either 'value' or both 'min' and 'max'");
          continue;
        }
        auto lo = Number(rule, has_value ? "value" : "min", 0);
        auto hi = Number(rule, has_value ? "value" : "max", 0);
        if (!fc || !address || !type || !order || !lo || !hi || !rule.attribute("address")) {
          continue;
        }
        auto vt = modbus::ParseValueType(*type);
        if (!vt) {
          Error(rule, "<register>: " + vt.error().message());
          continue;
        }
        if (*hi < *lo) {
          Error(rule, "<register>: 'max' is below 'min'");
          continue;
        }
        r.function = *fc;
        r.address = *address;
        r.type = *vt;
        r.word_order = *order;
        r.min = *lo;
        r.max = *hi;
        p.register_rules.push_back(r);
      } else {
        Error(rule, fmt::format("unknown element <{}> in <identify> (expected <device-id> or "
                                "<register>)",
                                element));
      }
    }
  }

  void ParseClock(const pugi::xml_node& node, Profile& p) {
    CheckAttributes(node, {"encoding", "fc", "address", "write-address", "year-base"});
    ClockSpec c;
    auto encoding = Required(node, "encoding", "<clock>");
    if (encoding) {
      if (*encoding == "epoch-u32") {
        c.encoding = ClockSpec::Encoding::kEpochU32;
      } else if (*encoding == "ymdhms-u16") {
        c.encoding = ClockSpec::Encoding::kYmdhmsU16;
      } else {
        Error(node, fmt::format("<clock>: unknown encoding '{}' (use epoch-u32 or ymdhms-u16)",
                                *encoding));
        encoding.reset();
      }
    }
    if (!node.attribute("address")) Error(node, "<clock>: missing attribute 'address'");
    auto fc = Function(node);
    auto address = Address(node, "address", p);
    auto write = node.attribute("write-address") ? Address(node, "write-address", p) : address;
    auto year_base = Unsigned(node, "year-base", 0, 0, 9999);
    if (!encoding || !fc || !address || !write || !year_base || !node.attribute("address")) return;
    c.function = *fc;
    c.address = *address;
    c.write_address = *write;
    c.year_base = static_cast<uint16_t>(*year_base);
    p.clock = c;
  }

  void ParseHistory(const pugi::xml_node& node, Profile& p) {
    CheckAttributes(node,
                    {"signal", "fc", "address", "type", "records", "interval-minutes", "scale"});
    HistorySpec h;
    auto signal = Required(node, "signal", "<history>");
    auto fc = Function(node);
    if (!node.attribute("address")) Error(node, "<history>: missing attribute 'address'");
    auto address = Address(node, "address", p);
    auto type = Required(node, "type", "<history>");
    if (!node.attribute("records")) Error(node, "<history>: missing attribute 'records'");
    auto records = Unsigned(node, "records", 1, 1, 65535);
    auto interval = Unsigned(node, "interval-minutes", 15, 1, 1440);
    auto scale = Number(node, "scale", 1.0);
    if (!signal || !fc || !address || !type || !records || !interval || !scale ||
        !node.attribute("address") || !node.attribute("records")) {
      return;
    }
    auto vt = modbus::ParseValueType(*type);
    if (!vt) {
      Error(node, "<history>: " + vt.error().message());
      return;
    }
    h.signal = *signal;
    h.function = *fc;
    h.address = *address;
    h.type = *vt;
    h.records = static_cast<uint16_t>(*records);
    h.interval_minutes = static_cast<uint16_t>(*interval);
    h.scale = *scale;
    p.history = h;
  }

  std::optional<SignalSpec> ParseSignal(const pugi::xml_node& node, const Profile& p) {
    CheckAttributes(node, {"name", "fc", "address", "type", "unit", "kind", "scale", "word-order",
                           "offset", "invert", "invalid", "scale-register", "length", "bit"});
    size_t errors_before = errors.size();
    SignalSpec s;
    s.line = LineAt(text_, node.offset_debug());
    auto name = Required(node, "name", "<signal>");
    if (!name) return std::nullopt;
    s.name = *name;
    auto where = [&](const std::string& what) {
      Error(node, fmt::format("signal '{}': {}", s.name, what));
    };
    if (s.name.empty()) {
      Error(node, "<signal>: empty name");
    } else if (!IsKnownSignal(s.name)) {
      where("not in the signal vocabulary (see docs/profiles.md)");
    }

    auto fc = Function(node);
    if (!node.attribute("address")) where("missing attribute 'address'");
    auto address = Address(node, "address", p);
    auto type = node.attribute("type") ? std::optional<std::string>(node.attribute("type").value())
                                       : std::nullopt;
    if (!type) where("missing attribute 'type'");
    auto length = Unsigned(node, "length", 0, 1, 125);
    auto bit = Unsigned(node, "bit", 0, 0, 31);
    auto order = Order(node, p.word_order);
    auto scale = Number(node, "scale", 1.0);
    auto offset = Number(node, "offset", 0.0);
    auto invert = Boolean(node, "invert");
    s.unit = node.attribute("unit").value();
    std::string_view kind = node.attribute("kind").as_string("instant");
    if (kind == "instant") {
      s.kind = SignalKind::kInstant;
    } else if (kind == "counter") {
      s.kind = SignalKind::kCounter;
    } else {
      where(fmt::format("unknown kind '{}' (use instant or counter)", kind));
    }
    if (fc) s.function = *fc;
    if (address) s.address = *address;
    if (order) s.word_order = *order;
    if (scale) s.scale = *scale;
    if (offset) s.offset = *offset;
    if (invert) s.invert = *invert;

    if (type) {
      if (*type == "string") {
        s.format = SignalFormat::kString;
        if (!node.attribute("length")) where("type string needs 'length' (registers)");
        if (length) s.length = static_cast<uint16_t>(*length);
      } else if (*type == "bitfield") {
        s.format = SignalFormat::kBitfield;
        s.length = static_cast<uint16_t>(node.attribute("length") ? length.value_or(1) : 1);
        if (s.length > 2) where("a bitfield is 1 or 2 registers long");
        if (!node.attribute("bit")) where("type bitfield needs 'bit'");
        if (bit) s.bit = static_cast<uint8_t>(*bit);
        if (s.length <= 2 && s.bit >= 16 * s.length) {
          where(fmt::format("bit {} is outside a {}-register bitfield", s.bit, s.length));
        }
      } else {
        auto vt = modbus::ParseValueType(*type);
        if (!vt) {
          where(
              fmt::format("unknown type '{}' (use int16, uint16, int32, uint32, int64, uint64, "
                          "float32, float64, string or bitfield)",
                          *type));
        } else {
          s.type = *vt;
        }
      }
    }
    if (s.format != SignalFormat::kString && node.attribute("length") &&
        s.format != SignalFormat::kBitfield) {
      where("'length' is only for string and bitfield");
    }
    if (s.format != SignalFormat::kBitfield && node.attribute("bit")) {
      where("'bit' is only for bitfield");
    }
    if (s.format == SignalFormat::kString && !IsIdentitySignal(s.name) && !s.name.empty()) {
      where("only serial_number, firmware_version and model_name can be strings");
    }
    if (s.format == SignalFormat::kString &&
        (node.attribute("scale") || node.attribute("offset") || node.attribute("invert") ||
         node.attribute("invalid") || node.attribute("scale-register"))) {
      where("a string has no scale, offset, invert, invalid or scale-register");
    }

    if (auto sr = node.attribute("scale-register")) {
      auto a = Address(node, "scale-register", p);
      if (a) s.scale_register = *a;
    }
    if (auto inv = node.attribute("invalid")) {
      unsigned bits = s.format == SignalFormat::kNumber ? 16u * modbus::RegisterCount(s.type)
                                                        : 16u * std::max<uint16_t>(s.length, 1);
      uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
      std::istringstream words(inv.value());
      std::string word;
      while (words >> word) {
        auto v = ParseInteger(word, true);
        if (!v) {
          where(fmt::format("invalid=\"{}\": '{}' is not an integer", inv.value(), word));
          continue;
        }
        uint64_t pattern = static_cast<uint64_t>(*v) & mask;
        if (*v >= 0 && static_cast<uint64_t>(*v) != pattern) {
          where(fmt::format("invalid value '{}' does not fit in {} bits", word, bits));
          continue;
        }
        s.invalid.push_back(pattern);
      }
    }
    if (errors.size() != errors_before) return std::nullopt;

    uint16_t count = s.RegisterCount();
    if (count > p.max_registers) {
      where(fmt::format("{} registers do not fit in max-registers={}", count, p.max_registers));
    }
    if (uint32_t{s.address} + count > 0x10000) where("value runs past register 65535");
    if (p.IsForbidden(s.function, s.address, count)) where("lies in a <forbidden> range");
    if (s.scale_register && p.IsForbidden(s.function, *s.scale_register, 1)) {
      where("scale-register lies in a <forbidden> range");
    }
    if (errors.size() != errors_before) return std::nullopt;
    return s;
  }

  std::string_view text_;
  std::string_view source_;
};

std::string JoinErrors(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += '\n';
    out += e;
  }
  return out;
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(NotFound(fmt::format("cannot read profile {}", path.string())));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

uint16_t SignalSpec::RegisterCount() const {
  return format == SignalFormat::kNumber ? modbus::RegisterCount(type) : length;
}

bool SignalSpec::IsIdentity() const { return IsIdentitySignal(name); }

bool Profile::IsForbidden(uint8_t function, uint32_t address, uint32_t count) const {
  for (const auto& f : forbidden) {
    if (f.function == function && address <= f.last && address + count > f.first) return true;
  }
  return false;
}

Result<Profile> ParseProfile(std::string_view xml_text, std::string id, std::string_view source) {
  Parser parser(xml_text, source);
  auto p = parser.Parse(std::move(id));
  if (!p) return Fail(InvalidArgument(JoinErrors(parser.errors)));
  return std::move(*p);
}

std::vector<std::string> ValidateProfile(std::string_view xml_text, std::string_view source) {
  Parser parser(xml_text, source);
  (void)parser.Parse("");
  return std::move(parser.errors);
}

std::vector<std::string> ValidateProfileFile(const std::filesystem::path& path) {
  auto text = ReadFile(path);
  if (!text) return {text.error().message()};
  return ValidateProfile(*text, path.filename().string());
}

Result<Profile> LoadProfile(const std::filesystem::path& path) {
  auto text = ReadFile(path);
  if (!text) return Fail(text.error());
  return ParseProfile(*text, path.stem().string(), path.filename().string());
}

}  // namespace wattline::profiles
