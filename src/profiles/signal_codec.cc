#include "profiles/signal_codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace wattline::profiles {
namespace {

using modbus::ValueType;
using modbus::WordOrder;

bool SwapsBytes(WordOrder o) { return o == WordOrder::kBADC || o == WordOrder::kDCBA; }
bool SwapsWords(WordOrder o) { return o == WordOrder::kCDAB || o == WordOrder::kDCBA; }
uint16_t Swap(uint16_t v) { return static_cast<uint16_t>((v << 8) | (v >> 8)); }

// Registers in wire order -> unsigned bits, most significant word first (the same convention
// as modbus/register_decode.cc, which the tests cross-check).
uint64_t Assemble(std::span<const uint16_t> regs, size_t n, WordOrder order) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    uint16_t w = regs[SwapsWords(order) ? n - 1 - i : i];
    v = (v << 16) | (SwapsBytes(order) ? Swap(w) : w);
  }
  return v;
}

std::vector<uint16_t> Split(uint64_t v, size_t n, WordOrder order) {
  std::vector<uint16_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    uint16_t w = static_cast<uint16_t>(v >> (16 * (n - 1 - i)));
    out[SwapsWords(order) ? n - 1 - i : i] = SwapsBytes(order) ? Swap(w) : w;
  }
  return out;
}

double RawValue(uint64_t bits, ValueType type) {
  switch (type) {
    case ValueType::kInt16:
      return static_cast<int16_t>(bits);
    case ValueType::kUint16:
      return static_cast<uint16_t>(bits);
    case ValueType::kInt32:
      return static_cast<int32_t>(bits);
    case ValueType::kUint32:
      return static_cast<uint32_t>(bits);
    case ValueType::kFloat32:
      return std::bit_cast<float>(static_cast<uint32_t>(bits));
    case ValueType::kInt64:
      return static_cast<double>(static_cast<int64_t>(bits));
    case ValueType::kUint64:
      return static_cast<double>(bits);
    case ValueType::kFloat64:
      return std::bit_cast<double>(bits);
  }
  return 0;
}

template <typename T>
uint64_t ClampToBits(double v) {
  v = std::round(v);
  // Compare in double; the max of 64-bit types is not representable, so stay below 2^63/2^64.
  double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  double hi = static_cast<double>(std::numeric_limits<T>::max());
  T out;
  if (!(v > lo)) {
    out = std::numeric_limits<T>::lowest();
  } else if (!(v < hi)) {
    out = std::numeric_limits<T>::max();
  } else {
    out = static_cast<T>(v);
  }
  using U = std::make_unsigned_t<T>;
  return static_cast<U>(out);
}

uint64_t RawBits(double raw, ValueType type) {
  switch (type) {
    case ValueType::kInt16:
      return ClampToBits<int16_t>(raw);
    case ValueType::kUint16:
      return ClampToBits<uint16_t>(raw);
    case ValueType::kInt32:
      return ClampToBits<int32_t>(raw);
    case ValueType::kUint32:
      return ClampToBits<uint32_t>(raw);
    case ValueType::kFloat32:
      return std::bit_cast<uint32_t>(static_cast<float>(raw));
    case ValueType::kInt64:
      return ClampToBits<int64_t>(raw);
    case ValueType::kUint64:
      return ClampToBits<uint64_t>(raw);
    case ValueType::kFloat64:
      return std::bit_cast<uint64_t>(raw);
  }
  return 0;
}

}  // namespace

Result<DecodedNumber> DecodeNumber(const SignalSpec& spec, std::span<const uint16_t> regs,
                                   int16_t scale_factor) {
  if (spec.format == SignalFormat::kString) {
    return Fail(InvalidArgument(fmt::format("signal '{}' is a string", spec.name)));
  }
  size_t n = spec.RegisterCount();
  if (regs.size() < n) {
    return Fail(InvalidArgument(
        fmt::format("signal '{}' needs {} registers, got {}", spec.name, n, regs.size())));
  }
  uint64_t bits = Assemble(regs, n, spec.word_order);
  if (std::find(spec.invalid.begin(), spec.invalid.end(), bits) != spec.invalid.end()) {
    return DecodedNumber{0, Quality::kInvalid};
  }
  double raw = spec.format == SignalFormat::kBitfield ? static_cast<double>((bits >> spec.bit) & 1)
                                                      : RawValue(bits, spec.type);
  double v = raw * spec.scale * std::pow(10.0, scale_factor) + spec.offset;
  if (spec.invert) v = -v;
  if (!std::isfinite(v)) return DecodedNumber{0, Quality::kInvalid};
  return DecodedNumber{v, Quality::kGood};
}

Result<std::string> DecodeText(const SignalSpec& spec, std::span<const uint16_t> regs,
                               int16_t scale_factor) {
  if (spec.format != SignalFormat::kString) {
    auto n = DecodeNumber(spec, regs, scale_factor);
    if (!n) return Fail(n.error());
    if (n->quality != Quality::kGood) return std::string();
    return fmt::format("{}", n->value);
  }
  if (regs.size() < spec.length) {
    return Fail(InvalidArgument(fmt::format("signal '{}' needs {} registers, got {}", spec.name,
                                            spec.length, regs.size())));
  }
  std::string out;
  for (size_t i = 0; i < spec.length; ++i) {
    uint16_t w = SwapsBytes(spec.word_order) ? Swap(regs[i]) : regs[i];
    out.push_back(static_cast<char>(w >> 8));
    out.push_back(static_cast<char>(w & 0xFF));
  }
  if (auto nul = out.find('\0'); nul != std::string::npos) out.resize(nul);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<uint16_t> EncodeNumber(const SignalSpec& spec, double value, int16_t scale_factor) {
  size_t n = spec.RegisterCount();
  if (spec.format == SignalFormat::kBitfield) {
    uint64_t bits = value != 0 ? uint64_t{1} << spec.bit : 0;
    return Split(bits, n, spec.word_order);
  }
  double v = spec.invert ? -value : value;
  double raw = (v - spec.offset) / (spec.scale * std::pow(10.0, scale_factor));
  return Split(RawBits(raw, spec.type), n, spec.word_order);
}

std::vector<uint16_t> EncodeText(const SignalSpec& spec, std::string_view text) {
  std::vector<uint16_t> out(spec.length, 0);
  for (size_t i = 0; i < out.size(); ++i) {
    auto at = [&](size_t k) -> uint16_t {
      return k < text.size() ? static_cast<uint8_t>(text[k]) : 0;
    };
    uint16_t w = static_cast<uint16_t>((at(2 * i) << 8) | at(2 * i + 1));
    out[i] = SwapsBytes(spec.word_order) ? Swap(w) : w;
  }
  return out;
}

}  // namespace wattline::profiles
