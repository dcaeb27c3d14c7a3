// The discovery protocol's messages and their codec (format: discovery_format.h,
// docs/discovery.md). A connector broadcasts a Query; every node that hears it sends one Answer
// per node it speaks for (a simulator with 20 meters sends 20), echoing the query's nonce.
// Pure functions; decoders return kInvalidArgument for anything malformed and never read past
// the input. Thread-safety: value types and stateless functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "discovery/discovery_format.h"

namespace wattline::discovery {

enum class NodeKind : uint8_t {
  kMeter = 1,
  kGateway = 2,
  kConnector = 3,
  kServer = 4,
};
inline constexpr uint8_t kMaxNodeKind = 4;

// "meter", "gateway", "connector", "server".
std::string_view NodeKindName(NodeKind kind);

struct Query {
  uint64_t nonce = 0;
  // Bit (kind - 1) set: nodes of that kind are asked to answer. 0: every kind.
  uint8_t kinds = 0;

  bool operator==(const Query&) const = default;
};

// Bit of `kind` in Query::kinds.
inline constexpr uint8_t KindBit(NodeKind kind) {
  return static_cast<uint8_t>(1u << (static_cast<uint8_t>(kind) - 1));
}
// True when `query` asks nodes of `kind` to answer.
bool Wants(const Query& query, NodeKind kind);

// A Modbus TCP endpoint a node offers.
struct Endpoint {
  uint32_t ipv4 = 0;  // host byte order; 0 means "the address the answer came from"
  uint16_t port = 0;
  std::vector<uint8_t> unit_ids;  // empty: unknown (try 1)
  std::string profile;            // driver profile id when known, e.g. "janitza-umg96rm-e"

  bool operator==(const Endpoint&) const = default;
};

struct Identity {
  std::string vendor;
  std::string model;
  std::string serial;
  std::string name;

  bool operator==(const Identity&) const = default;
};

struct Answer {
  uint64_t nonce = 0;
  NodeKind kind = NodeKind::kMeter;
  Identity identity;
  std::vector<Endpoint> endpoints;

  bool operator==(const Answer&) const = default;
};

using Message = std::variant<Query, Answer>;

// Encodes a query (always fits a datagram).
std::string EncodeQuery(const Query& query);
// Encodes an answer. kInvalidArgument when a text is longer than kMaxText, contains a control
// character, an endpoint has port 0 or more than 255 unit ids, or the datagram would exceed
// kMaxDatagram.
Result<std::string> EncodeAnswer(const Answer& answer);

// Decodes one datagram. kInvalidArgument naming the first problem: too short, bad magic,
// unsupported version, unknown type, body length not matching the datagram, checksum mismatch,
// a truncated field, a fixed-size field of the wrong size, a repeated field, a missing required
// field, a node kind outside 1..4, a text too long or with control characters.
Result<Message> DecodeDatagram(std::string_view datagram);

// "10.0.0.5" <-> 0x0A000005. ParseIpv4 returns kInvalidArgument for anything but a dotted quad.
std::string FormatIpv4(uint32_t ipv4);
Result<uint32_t> ParseIpv4(std::string_view text);

}  // namespace wattline::discovery
