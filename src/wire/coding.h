// Byte coding shared by the wire and on-disk formats: little-endian fixed-width integers,
// LEB128 varints, zigzag, length-prefixed strings. Writers append to a std::string; readers
// consume from the front of a std::string_view and fail (false / nullopt) instead of reading past
// its end. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace wattline::wire {

inline constexpr size_t kMaxVarint64Bytes = 10;

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint64(std::string* dst, uint64_t v);
// Varint length, then the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view s);

// REQUIRES: p points at 4 (8) readable bytes.
uint32_t DecodeFixed32(const char* p);
uint64_t DecodeFixed64(const char* p);

enum class VarintError : uint8_t { kOk, kTruncated, kOverflow };
// Reads a varint from the front of `in` into `*v` and advances `in`. kTruncated if `in` ends
// inside it; kOverflow if it is longer than 10 bytes or exceeds 64 bits. `in` is unchanged on
// error.
VarintError GetVarint64(std::string_view* in, uint64_t* v);

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Reads fields from the front of untrusted bytes. The first failure sticks: later reads return
// false and status() is a kInvalidArgument naming the format, the field and the byte offset,
// e.g. "batch: truncated in 'connector_id' at offset 5". Never reads past the input.
class Decoder {
 public:
  // `format` names the thing decoded in error messages ("reading", "batch"). REQUIRES: `in`
  // outlives the Decoder and every string_view it returns.
  Decoder(std::string_view in, std::string_view format)
      : in_(in), size_(in.size()), format_(format) {}

  bool ReadU8(uint8_t* v, std::string_view field);
  bool ReadFixed32(uint32_t* v, std::string_view field);
  bool ReadVarint(uint64_t* v, std::string_view field);
  bool ReadBytes(size_t n, std::string_view* v, std::string_view field);
  // A varint length then that many bytes; a length above `max_len` fails ("too long").
  bool ReadLengthPrefixed(std::string_view* v, size_t max_len, std::string_view field);

  // Records an error found by the caller (a bad enum value, a broken rule) at the current offset.
  bool Error(std::string_view what);

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  std::string_view remaining() const { return in_; }
  size_t offset() const { return size_ - in_.size(); }

 private:
  std::string_view in_;
  size_t size_;
  std::string_view format_;
  Status status_;
};

}  // namespace wattline::wire
