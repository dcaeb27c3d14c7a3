// Constants of the discovery datagram format (docs/discovery.md). Part of the wire format:
// never change a value; add new tags instead, or bump kVersion for an incompatible change.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wattline::discovery {

// UDP port a Wattline node listens on for discovery queries.
inline constexpr uint16_t kDefaultPort = 1111;

// "WLDP" (Wattline discovery protocol).
inline constexpr uint8_t kMagic[4] = {0x57, 0x4C, 0x44, 0x50};
inline constexpr uint8_t kVersion = 1;

// magic(4) version(1) type(1) body_length(2) nonce(8); the body; then CRC-32C(4) of all before.
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kTrailerSize = 4;
// Largest datagram sent or accepted: under the IPv6 minimum MTU, so never fragmented.
inline constexpr size_t kMaxDatagram = 1200;
inline constexpr size_t kMaxBody = kMaxDatagram - kHeaderSize - kTrailerSize;
// Longest text field (vendor, model, serial, name, profile id), in bytes.
inline constexpr size_t kMaxText = 128;

inline constexpr uint8_t kTypeQuery = 1;
inline constexpr uint8_t kTypeAnswer = 2;

// Body fields: tag(1) length(2, big-endian) value(length). Decoders skip unknown tags.
// Query:
inline constexpr uint8_t kTagKinds = 0x01;  // 1 byte: bit (kind - 1) set = kind asked for
// Answer:
inline constexpr uint8_t kTagNodeKind = 0x01;  // 1 byte, required
inline constexpr uint8_t kTagVendor = 0x02;    // text
inline constexpr uint8_t kTagModel = 0x03;     // text
inline constexpr uint8_t kTagSerial = 0x04;    // text
inline constexpr uint8_t kTagName = 0x05;      // text
inline constexpr uint8_t kTagEndpoint = 0x10;  // nested fields, repeatable
// Inside an endpoint:
inline constexpr uint8_t kTagEpIpv4 = 0x01;     // 4 bytes, required; 0.0.0.0 = the sender
inline constexpr uint8_t kTagEpPort = 0x02;     // 2 bytes big-endian, required, not 0
inline constexpr uint8_t kTagEpUnits = 0x03;    // 1..255 bytes, one unit id each
inline constexpr uint8_t kTagEpProfile = 0x04;  // text

}  // namespace wattline::discovery
