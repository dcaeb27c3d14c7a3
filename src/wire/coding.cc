#include "wire/coding.h"

namespace wattline::wire {

void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  dst->append(buf, 4);
}

void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  dst->append(buf, 8);
}

void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

void PutLengthPrefixed(std::string* dst, std::string_view s) {
  PutVarint64(dst, s.size());
  dst->append(s);
}

uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

VarintError GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarint64Bytes; ++i) {
    if (i >= in->size()) return VarintError::kTruncated;
    auto byte = static_cast<unsigned char>((*in)[i]);
    // The tenth byte holds only bit 63: anything above it would be silently dropped.
    if (i == kMaxVarint64Bytes - 1 && byte > 1) return VarintError::kOverflow;
    result |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) {
      *v = result;
      in->remove_prefix(i + 1);
      return VarintError::kOk;
    }
  }
  return VarintError::kOverflow;
}

bool Decoder::Error(std::string_view what) {
  if (status_.ok()) {
    status_ = InvalidArgument(std::string(format_) + ": " + std::string(what) + " at offset " +
                              std::to_string(offset()));
  }
  return false;
}

bool Decoder::ReadU8(uint8_t* v, std::string_view field) {
  if (!ok()) return false;
  if (in_.empty()) return Error("truncated in '" + std::string(field) + "'");
  *v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return true;
}

bool Decoder::ReadFixed32(uint32_t* v, std::string_view field) {
  if (!ok()) return false;
  if (in_.size() < 4) return Error("truncated in '" + std::string(field) + "'");
  *v = DecodeFixed32(in_.data());
  in_.remove_prefix(4);
  return true;
}

bool Decoder::ReadVarint(uint64_t* v, std::string_view field) {
  if (!ok()) return false;
  switch (GetVarint64(&in_, v)) {
    case VarintError::kOk:
      return true;
    case VarintError::kTruncated:
      return Error("truncated in '" + std::string(field) + "'");
    case VarintError::kOverflow:
      return Error("bad varint in '" + std::string(field) + "'");
  }
  return Error("bad varint in '" + std::string(field) + "'");
}

bool Decoder::ReadBytes(size_t n, std::string_view* v, std::string_view field) {
  if (!ok()) return false;
  if (in_.size() < n) {
    return Error("truncated in '" + std::string(field) + "' (needs " + std::to_string(n) +
                 " bytes, " + std::to_string(in_.size()) + " left)");
  }
  *v = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

bool Decoder::ReadLengthPrefixed(std::string_view* v, size_t max_len, std::string_view field) {
  uint64_t len = 0;
  if (!ReadVarint(&len, field)) return false;
  if (len > max_len) {
    return Error("'" + std::string(field) + "' too long (" + std::to_string(len) + " bytes, max " +
                 std::to_string(max_len) + ")");
  }
  return ReadBytes(static_cast<size_t>(len), v, field);
}

}  // namespace wattline::wire
