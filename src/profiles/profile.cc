#include "profiles/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <pugixml.hpp>
#include <set>
#include <sstream>

namespace wattline::profiles {
namespace {

// pugixml reports byte offsets; people want line numbers.
int LineAt(std::string_view text, ptrdiff_t offset) {
  if (offset < 0) return 0;
  size_t end = std::min(text.size(), static_cast<size_t>(offset));
  return 1 + static_cast<int>(
                 std::count(text.begin(), text.begin() + static_cast<ptrdiff_t>(end), '\n'));
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  Status Error(const pugi::xml_node& node, const std::string& what) const {
    return InvalidArgument(
        fmt::format("{}:{}: {}", source_, LineAt(text_, node.offset_debug()), what));
  }

  Status CheckAttributes(const pugi::xml_node& node,
                         std::initializer_list<std::string_view> allowed) const {
    for (const auto& attr : node.attributes()) {
      if (std::find(allowed.begin(), allowed.end(), attr.name()) == allowed.end()) {
        return Error(node, fmt::format("<{}>: unknown attribute '{}'", node.name(), attr.name()));
      }
    }
    return Status::Ok();
  }

  Result<std::string> Required(const pugi::xml_node& node, const char* name) const {
    auto attr = node.attribute(name);
    if (!attr)
      return Fail(Error(node, fmt::format("<{}>: missing attribute '{}'", node.name(), name)));
    return std::string(attr.value());
  }

  // An unsigned integer attribute in [lo, hi]; `fallback` when absent.
  Result<uint32_t> Unsigned(const pugi::xml_node& node, const char* name, uint32_t fallback,
                            uint32_t lo, uint32_t hi) const {
    auto attr = node.attribute(name);
    if (!attr) return fallback;
    std::string_view v = attr.value();
    uint32_t out = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || ptr != v.data() + v.size() || out < lo || out > hi) {
      return Fail(Error(node, fmt::format("<{}>: {}=\"{}\" is not an integer in {}..{}",
                                          node.name(), name, v, lo, hi)));
    }
    return out;
  }

  Result<double> Number(const pugi::xml_node& node, const char* name, double fallback) const {
    auto attr = node.attribute(name);
    if (!attr) return fallback;
    std::string_view v = attr.value();
    double out = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || ptr != v.data() + v.size() || !std::isfinite(out)) {
      return Fail(
          Error(node, fmt::format("<{}>: {}=\"{}\" is not a number", node.name(), name, v)));
    }
    return out;
  }

  Result<Profile> Parse(std::string id) const {
    pugi::xml_document doc;
    pugi::xml_parse_result parsed = doc.load_buffer(text_.data(), text_.size());
    if (!parsed) {
      return Fail(InvalidArgument(fmt::format("{}:{}: XML error: {}", source_,
                                              LineAt(text_, parsed.offset), parsed.description())));
    }
    pugi::xml_node root = doc.document_element();
    if (std::string_view(root.name()) != "profile") {
      return Fail(
          Error(root, fmt::format("root element is <{}>, expected <profile>", root.name())));
    }
    if (Status s = CheckAttributes(
            root, {"vendor", "model", "max-registers", "word-order", "address-base", "max-gap"});
        !s.ok()) {
      return Fail(s);
    }
    Profile p;
    p.id = std::move(id);
    auto vendor = Required(root, "vendor");
    if (!vendor) return Fail(vendor.error());
    auto model = Required(root, "model");
    if (!model) return Fail(model.error());
    p.vendor = *vendor;
    p.model = *model;
    auto max_registers = Unsigned(root, "max-registers", 125, 1, 125);
    if (!max_registers) return Fail(max_registers.error());
    p.max_registers = static_cast<uint16_t>(*max_registers);
    auto max_gap = Unsigned(root, "max-gap", 0, 0, 124);
    if (!max_gap) return Fail(max_gap.error());
    p.max_gap = static_cast<uint16_t>(*max_gap);
    auto base = Unsigned(root, "address-base", 0, 0, 1);
    if (!base) return Fail(base.error());
    p.address_base = static_cast<uint16_t>(*base);
    if (auto wo = root.attribute("word-order")) {
      auto order = modbus::ParseWordOrder(wo.value());
      if (!order) return Fail(Error(root, order.error().message()));
      p.word_order = *order;
    }

    std::set<std::string, std::less<>> names;
    for (pugi::xml_node node : root.children()) {
      if (node.type() != pugi::node_element) continue;
      if (std::string_view(node.name()) != "signal") {
        return Fail(
            Error(node, fmt::format("unknown element <{}> (expected <signal>)", node.name())));
      }
      auto signal = ParseSignal(node, p);
      if (!signal) return Fail(signal.error());
      if (!names.insert(signal->name).second) {
        return Fail(Error(node, fmt::format("duplicate signal '{}'", signal->name)));
      }
      p.signals.push_back(std::move(*signal));
    }
    if (p.signals.empty()) return Fail(Error(root, "profile has no <signal>"));
    return p;
  }

 private:
  Result<SignalSpec> ParseSignal(const pugi::xml_node& node, const Profile& p) const {
    if (Status s = CheckAttributes(
            node, {"name", "fc", "address", "type", "unit", "kind", "scale", "word-order"});
        !s.ok()) {
      return Fail(s);
    }
    SignalSpec s;
    auto name = Required(node, "name");
    if (!name) return Fail(name.error());
    if (name->empty()) return Fail(Error(node, "<signal>: empty name"));
    s.name = *name;
    auto where = [&](const std::string& what) {
      return Error(node, fmt::format("signal '{}': {}", s.name, what));
    };

    auto fc = Unsigned(node, "fc", 3, 3, 4);
    if (!fc) return Fail(fc.error());
    s.function = static_cast<uint8_t>(*fc);
    if (!node.attribute("address")) return Fail(where("missing attribute 'address'"));
    auto address = Unsigned(node, "address", 0, p.address_base, 65535 + p.address_base);
    if (!address) return Fail(address.error());
    s.address = static_cast<uint16_t>(*address - p.address_base);
    auto type = Required(node, "type");
    if (!type) return Fail(where("missing attribute 'type'"));
    auto vt = modbus::ParseValueType(*type);
    if (!vt) return Fail(where(vt.error().message()));
    s.type = *vt;
    if (modbus::RegisterCount(s.type) > p.max_registers) {
      return Fail(
          where(fmt::format("{} does not fit in max-registers={}", *type, p.max_registers)));
    }
    if (uint32_t{s.address} + modbus::RegisterCount(s.type) > 0x10000) {
      return Fail(where("value runs past register 65535"));
    }
    s.word_order = p.word_order;
    if (auto wo = node.attribute("word-order")) {
      auto order = modbus::ParseWordOrder(wo.value());
      if (!order) return Fail(where(order.error().message()));
      s.word_order = *order;
    }
    s.unit = node.attribute("unit").value();
    std::string_view kind = node.attribute("kind").as_string("instant");
    if (kind == "instant") {
      s.kind = SignalKind::kInstant;
    } else if (kind == "counter") {
      s.kind = SignalKind::kCounter;
    } else {
      return Fail(where(fmt::format("unknown kind '{}' (use instant or counter)", kind)));
    }
    auto scale = Number(node, "scale", 1.0);
    if (!scale) return Fail(scale.error());
    s.scale = *scale;
    return s;
  }

  std::string_view text_;
  std::string_view source_;
};

}  // namespace

Result<Profile> ParseProfile(std::string_view xml_text, std::string id, std::string_view source) {
  return Parser(xml_text, source).Parse(std::move(id));
}

Result<Profile> LoadProfile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(NotFound(fmt::format("cannot read profile {}", path.string())));
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  return ParseProfile(text, path.stem().string(), path.filename().string());
}

}  // namespace wattline::profiles
