#include "discovery/protocol.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>
#include <optional>

#include "wire/crc32c.h"

namespace wattline::discovery {
namespace {

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

uint64_t GetBigEndian(std::string_view in, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

void PutField(std::string& out, uint8_t tag, std::string_view value) {
  out.push_back(static_cast<char>(tag));
  PutU16(out, static_cast<uint16_t>(value.size()));
  out.append(value);
}

// Texts are shown in UIs and printed as JSON: no control characters.
bool ValidText(std::string_view text) {
  if (text.size() > kMaxText) return false;
  for (char c : text) {
    auto b = static_cast<uint8_t>(c);
    if (b < 0x20 || b == 0x7F) return false;
  }
  return true;
}

std::string Frame(uint8_t type, uint64_t nonce, std::string_view body) {
  std::string out(reinterpret_cast<const char*>(kMagic), sizeof kMagic);
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(type));
  PutU16(out, static_cast<uint16_t>(body.size()));
  PutU64(out, nonce);
  out.append(body);
  PutU32(out, wire::Crc32c(out));
  return out;
}

struct Field {
  uint8_t tag;
  std::string_view value;
};

// Splits a body into fields. kInvalidArgument for a truncated header or value.
Result<std::vector<Field>> SplitFields(std::string_view body, std::string_view where) {
  std::vector<Field> fields;
  while (!body.empty()) {
    if (body.size() < 3) {
      return Fail(InvalidArgument(fmt::format("{}: truncated field header", where)));
    }
    uint8_t tag = static_cast<uint8_t>(body[0]);
    size_t len = GetBigEndian(body.substr(1), 2);
    if (body.size() - 3 < len) {
      return Fail(InvalidArgument(fmt::format("{}: field 0x{:02X} needs {} bytes, {} left", where,
                                              tag, len, body.size() - 3)));
    }
    fields.push_back({tag, body.substr(3, len)});
    body.remove_prefix(3 + len);
  }
  return fields;
}

// Tracks which known tags were seen, to refuse repeats of single-valued fields.
class SeenTags {
 public:
  Status Mark(uint8_t tag, std::string_view where) {
    if (seen_[tag]) return InvalidArgument(fmt::format("{}: field 0x{:02X} repeated", where, tag));
    seen_[tag] = true;
    return Status::Ok();
  }
  bool Has(uint8_t tag) const { return seen_[tag]; }

 private:
  bool seen_[256] = {};
};

Status ReadText(const Field& f, std::string& out, std::string_view where) {
  if (!ValidText(f.value)) {
    return InvalidArgument(
        fmt::format("{}: text field 0x{:02X} longer than {} bytes or with "
                    "control characters",
                    where, f.tag, kMaxText));
  }
  out.assign(f.value);
  return Status::Ok();
}

Result<Endpoint> DecodeEndpoint(std::string_view value) {
  constexpr std::string_view kWhere = "endpoint";
  auto fields = SplitFields(value, kWhere);
  if (!fields) return Fail(fields.error());
  Endpoint ep;
  SeenTags seen;
  for (const Field& f : *fields) {
    switch (f.tag) {
      case kTagEpIpv4:
        if (Status s = seen.Mark(f.tag, kWhere); !s.ok()) return Fail(s);
        if (f.value.size() != 4) return Fail(InvalidArgument("endpoint: ipv4 is not 4 bytes"));
        ep.ipv4 = static_cast<uint32_t>(GetBigEndian(f.value, 4));
        break;
      case kTagEpPort:
        if (Status s = seen.Mark(f.tag, kWhere); !s.ok()) return Fail(s);
        if (f.value.size() != 2) return Fail(InvalidArgument("endpoint: port is not 2 bytes"));
        ep.port = static_cast<uint16_t>(GetBigEndian(f.value, 2));
        if (ep.port == 0) return Fail(InvalidArgument("endpoint: port 0"));
        break;
      case kTagEpUnits:
        if (Status s = seen.Mark(f.tag, kWhere); !s.ok()) return Fail(s);
        if (f.value.empty() || f.value.size() > 255) {
          return Fail(InvalidArgument("endpoint: unit id list empty or longer than 255"));
        }
        ep.unit_ids.assign(f.value.begin(), f.value.end());
        break;
      case kTagEpProfile:
        if (Status s = seen.Mark(f.tag, kWhere); !s.ok()) return Fail(s);
        if (Status s = ReadText(f, ep.profile, kWhere); !s.ok()) return Fail(s);
        break;
      default:
        break;  // a later version's field
    }
  }
  if (!seen.Has(kTagEpIpv4) || !seen.Has(kTagEpPort)) {
    return Fail(InvalidArgument("endpoint: ipv4 or port missing"));
  }
  return ep;
}

Result<Message> DecodeQueryBody(uint64_t nonce, std::string_view body) {
  auto fields = SplitFields(body, "query");
  if (!fields) return Fail(fields.error());
  Query q;
  q.nonce = nonce;
  SeenTags seen;
  for (const Field& f : *fields) {
    if (f.tag != kTagKinds) continue;
    if (Status s = seen.Mark(f.tag, "query"); !s.ok()) return Fail(s);
    if (f.value.size() != 1) return Fail(InvalidArgument("query: kinds is not 1 byte"));
    q.kinds = static_cast<uint8_t>(f.value[0]);
  }
  return Message(q);
}

Result<Message> DecodeAnswerBody(uint64_t nonce, std::string_view body) {
  constexpr std::string_view kWhere = "answer";
  auto fields = SplitFields(body, kWhere);
  if (!fields) return Fail(fields.error());
  Answer a;
  a.nonce = nonce;
  SeenTags seen;
  for (const Field& f : *fields) {
    Status s;
    switch (f.tag) {
      case kTagNodeKind:
        s = seen.Mark(f.tag, kWhere);
        if (!s.ok()) break;
        if (f.value.size() != 1) return Fail(InvalidArgument("answer: node kind is not 1 byte"));
        if (uint8_t k = static_cast<uint8_t>(f.value[0]); k < 1 || k > kMaxNodeKind) {
          return Fail(InvalidArgument(fmt::format("answer: unknown node kind {}", k)));
        }
        a.kind = static_cast<NodeKind>(f.value[0]);
        break;
      case kTagVendor:
        s = seen.Mark(f.tag, kWhere);
        if (s.ok()) s = ReadText(f, a.identity.vendor, kWhere);
        break;
      case kTagModel:
        s = seen.Mark(f.tag, kWhere);
        if (s.ok()) s = ReadText(f, a.identity.model, kWhere);
        break;
      case kTagSerial:
        s = seen.Mark(f.tag, kWhere);
        if (s.ok()) s = ReadText(f, a.identity.serial, kWhere);
        break;
      case kTagName:
        s = seen.Mark(f.tag, kWhere);
        if (s.ok()) s = ReadText(f, a.identity.name, kWhere);
        break;
      case kTagEndpoint: {
        auto ep = DecodeEndpoint(f.value);
        if (!ep) return Fail(ep.error());
        a.endpoints.push_back(std::move(*ep));
        break;
      }
      default:
        break;  // a later version's field
    }
    if (!s.ok()) return Fail(s);
  }
  if (!seen.Has(kTagNodeKind)) return Fail(InvalidArgument("answer: node kind missing"));
  return Message(std::move(a));
}

}  // namespace

std::string_view NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kMeter:
      return "meter";
    case NodeKind::kGateway:
      return "gateway";
    case NodeKind::kConnector:
      return "connector";
    case NodeKind::kServer:
      return "server";
  }
  return "unknown";
}

bool Wants(const Query& query, NodeKind kind) {
  return query.kinds == 0 || (query.kinds & KindBit(kind)) != 0;
}

std::string EncodeQuery(const Query& query) {
  std::string body;
  if (query.kinds != 0) PutField(body, kTagKinds, std::string(1, static_cast<char>(query.kinds)));
  return Frame(kTypeQuery, query.nonce, body);
}

Result<std::string> EncodeAnswer(const Answer& answer) {
  auto k = static_cast<uint8_t>(answer.kind);
  if (k < 1 || k > kMaxNodeKind) return Fail(InvalidArgument(fmt::format("node kind {}", k)));
  std::string body;
  PutField(body, kTagNodeKind, std::string(1, static_cast<char>(k)));
  const std::pair<uint8_t, const std::string*> texts[] = {{kTagVendor, &answer.identity.vendor},
                                                          {kTagModel, &answer.identity.model},
                                                          {kTagSerial, &answer.identity.serial},
                                                          {kTagName, &answer.identity.name}};
  for (const auto& [tag, text] : texts) {
    if (text->empty()) continue;
    if (!ValidText(*text)) {
      return Fail(
          InvalidArgument(fmt::format("text '{}' longer than {} bytes or with control "
                                      "characters",
                                      *text, kMaxText)));
    }
    PutField(body, tag, *text);
  }
  for (const Endpoint& ep : answer.endpoints) {
    if (ep.port == 0) return Fail(InvalidArgument("endpoint with port 0"));
    if (ep.unit_ids.size() > 255) return Fail(InvalidArgument("endpoint with > 255 unit ids"));
    if (!ValidText(ep.profile)) return Fail(InvalidArgument("bad profile id " + ep.profile));
    std::string inner;
    std::string v;
    PutU32(v, ep.ipv4);
    PutField(inner, kTagEpIpv4, v);
    v.clear();
    PutU16(v, ep.port);
    PutField(inner, kTagEpPort, v);
    if (!ep.unit_ids.empty()) {
      PutField(
          inner, kTagEpUnits,
          std::string_view(reinterpret_cast<const char*>(ep.unit_ids.data()), ep.unit_ids.size()));
    }
    if (!ep.profile.empty()) PutField(inner, kTagEpProfile, ep.profile);
    PutField(body, kTagEndpoint, inner);
  }
  if (body.size() > kMaxBody) {
    return Fail(InvalidArgument(
        fmt::format("answer needs {} bytes, a datagram holds {}", body.size(), kMaxBody)));
  }
  return Frame(kTypeAnswer, answer.nonce, body);
}

Result<Message> DecodeDatagram(std::string_view d) {
  if (d.size() < kHeaderSize + kTrailerSize) {
    return Fail(InvalidArgument(fmt::format("datagram of {} bytes is too short", d.size())));
  }
  if (d.size() > kMaxDatagram) {
    return Fail(InvalidArgument(fmt::format("datagram of {} bytes is too long", d.size())));
  }
  if (std::memcmp(d.data(), kMagic, sizeof kMagic) != 0) return Fail(InvalidArgument("bad magic"));
  if (auto v = static_cast<uint8_t>(d[4]); v != kVersion) {
    return Fail(InvalidArgument(fmt::format("unsupported version {}", v)));
  }
  uint8_t type = static_cast<uint8_t>(d[5]);
  size_t body_len = GetBigEndian(d.substr(6), 2);
  if (kHeaderSize + body_len + kTrailerSize != d.size()) {
    return Fail(InvalidArgument(
        fmt::format("body length {} does not match a datagram of {} bytes", body_len, d.size())));
  }
  uint32_t want = static_cast<uint32_t>(GetBigEndian(d.substr(d.size() - kTrailerSize), 4));
  if (wire::Crc32c(d.substr(0, d.size() - kTrailerSize)) != want) {
    return Fail(InvalidArgument("checksum mismatch"));
  }
  uint64_t nonce = GetBigEndian(d.substr(8), 8);
  std::string_view body = d.substr(kHeaderSize, body_len);
  switch (type) {
    case kTypeQuery:
      return DecodeQueryBody(nonce, body);
    case kTypeAnswer:
      return DecodeAnswerBody(nonce, body);
    default:
      return Fail(InvalidArgument(fmt::format("unknown message type {}", type)));
  }
}

std::string FormatIpv4(uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF);
}

Result<uint32_t> ParseIpv4(std::string_view text) {
  uint32_t out = 0;
  std::string_view rest = text;
  for (int i = 0; i < 4; ++i) {
    unsigned part = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), part);
    size_t used = ptr - rest.data();
    if (ec != std::errc() || used == 0 || used > 3 || part > 255) {
      return Fail(InvalidArgument(fmt::format("'{}' is not an IPv4 address", text)));
    }
    out = (out << 8) | part;
    rest.remove_prefix(used);
    if (i < 3) {
      if (rest.empty() || rest[0] != '.') {
        return Fail(InvalidArgument(fmt::format("'{}' is not an IPv4 address", text)));
      }
      rest.remove_prefix(1);
    }
  }
  if (!rest.empty()) return Fail(InvalidArgument(fmt::format("'{}' is not an IPv4 address", text)));
  return out;
}

}  // namespace wattline::discovery
