#include "modbus/register_decode.h"

#include <fmt/format.h>

#include <bit>

namespace wattline::modbus {
namespace {

uint16_t Swap(uint16_t v) { return static_cast<uint16_t>((v << 8) | (v >> 8)); }
bool SwapsBytes(WordOrder o) { return o == WordOrder::kBADC || o == WordOrder::kDCBA; }
bool SwapsWords(WordOrder o) { return o == WordOrder::kCDAB || o == WordOrder::kDCBA; }

// Registers in wire order -> unsigned integer. Words are put into most-significant-first order,
// then each word's bytes into high-byte-first order, then concatenated.
template <size_t N>
uint64_t Assemble(std::span<const uint16_t, N> regs, WordOrder order) {
  uint64_t v = 0;
  for (size_t i = 0; i < N; ++i) {
    uint16_t w = regs[SwapsWords(order) ? N - 1 - i : i];
    v = (v << 16) | (SwapsBytes(order) ? Swap(w) : w);
  }
  return v;
}

template <size_t N>
std::array<uint16_t, N> Split(uint64_t v, WordOrder order) {
  std::array<uint16_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    // i-th most significant word.
    uint16_t w = static_cast<uint16_t>(v >> (16 * (N - 1 - i)));
    out[SwapsWords(order) ? N - 1 - i : i] = SwapsBytes(order) ? Swap(w) : w;
  }
  return out;
}

}  // namespace

std::string_view WordOrderName(WordOrder order) {
  switch (order) {
    case WordOrder::kABCD:
      return "ABCD";
    case WordOrder::kCDAB:
      return "CDAB";
    case WordOrder::kBADC:
      return "BADC";
    case WordOrder::kDCBA:
      return "DCBA";
  }
  return "?";
}

Result<WordOrder> ParseWordOrder(std::string_view text) {
  for (WordOrder o : {WordOrder::kABCD, WordOrder::kCDAB, WordOrder::kBADC, WordOrder::kDCBA}) {
    if (text == WordOrderName(o)) return o;
  }
  return Fail(
      InvalidArgument(fmt::format("unknown word order '{}' (use ABCD, CDAB, BADC or DCBA)", text)));
}

uint16_t DecodeUint16(uint16_t reg, WordOrder order) { return SwapsBytes(order) ? Swap(reg) : reg; }
int16_t DecodeInt16(uint16_t reg, WordOrder order) {
  return std::bit_cast<int16_t>(DecodeUint16(reg, order));
}
uint32_t DecodeUint32(std::span<const uint16_t, 2> regs, WordOrder order) {
  return static_cast<uint32_t>(Assemble<2>(regs, order));
}
int32_t DecodeInt32(std::span<const uint16_t, 2> regs, WordOrder order) {
  return std::bit_cast<int32_t>(DecodeUint32(regs, order));
}
float DecodeFloat32(std::span<const uint16_t, 2> regs, WordOrder order) {
  return std::bit_cast<float>(DecodeUint32(regs, order));
}
uint64_t DecodeUint64(std::span<const uint16_t, 4> regs, WordOrder order) {
  return Assemble<4>(regs, order);
}
int64_t DecodeInt64(std::span<const uint16_t, 4> regs, WordOrder order) {
  return std::bit_cast<int64_t>(DecodeUint64(regs, order));
}
double DecodeFloat64(std::span<const uint16_t, 4> regs, WordOrder order) {
  return std::bit_cast<double>(DecodeUint64(regs, order));
}

std::array<uint16_t, 2> EncodeUint32(uint32_t value, WordOrder order) {
  return Split<2>(value, order);
}
std::array<uint16_t, 2> EncodeFloat32(float value, WordOrder order) {
  return Split<2>(std::bit_cast<uint32_t>(value), order);
}
std::array<uint16_t, 4> EncodeFloat64(double value, WordOrder order) {
  return Split<4>(std::bit_cast<uint64_t>(value), order);
}

namespace {
constexpr ValueType kAllTypes[] = {ValueType::kInt16,  ValueType::kUint16,  ValueType::kInt32,
                                   ValueType::kUint32, ValueType::kFloat32, ValueType::kInt64,
                                   ValueType::kUint64, ValueType::kFloat64};
}

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kInt16:
      return "int16";
    case ValueType::kUint16:
      return "uint16";
    case ValueType::kInt32:
      return "int32";
    case ValueType::kUint32:
      return "uint32";
    case ValueType::kFloat32:
      return "float32";
    case ValueType::kInt64:
      return "int64";
    case ValueType::kUint64:
      return "uint64";
    case ValueType::kFloat64:
      return "float64";
  }
  return "?";
}

Result<ValueType> ParseValueType(std::string_view text) {
  for (ValueType t : kAllTypes) {
    if (text == ValueTypeName(t)) return t;
  }
  return Fail(InvalidArgument(fmt::format(
      "unknown type '{}' (use int16, uint16, int32, uint32, float32, int64, uint64 or float64)",
      text)));
}

uint16_t RegisterCount(ValueType type) {
  switch (type) {
    case ValueType::kInt16:
    case ValueType::kUint16:
      return 1;
    case ValueType::kInt32:
    case ValueType::kUint32:
    case ValueType::kFloat32:
      return 2;
    case ValueType::kInt64:
    case ValueType::kUint64:
    case ValueType::kFloat64:
      return 4;
  }
  return 1;
}

Result<double> DecodeAsDouble(std::span<const uint16_t> regs, ValueType type, WordOrder order) {
  if (regs.size() < RegisterCount(type)) {
    return Fail(InvalidArgument(fmt::format("{} needs {} registers, got {}", ValueTypeName(type),
                                            RegisterCount(type), regs.size())));
  }
  switch (type) {
    case ValueType::kInt16:
      return DecodeInt16(regs[0], order);
    case ValueType::kUint16:
      return DecodeUint16(regs[0], order);
    case ValueType::kInt32:
      return DecodeInt32(regs.first<2>(), order);
    case ValueType::kUint32:
      return DecodeUint32(regs.first<2>(), order);
    case ValueType::kFloat32:
      return DecodeFloat32(regs.first<2>(), order);
    case ValueType::kInt64:
      return static_cast<double>(DecodeInt64(regs.first<4>(), order));
    case ValueType::kUint64:
      return static_cast<double>(DecodeUint64(regs.first<4>(), order));
    case ValueType::kFloat64:
      return DecodeFloat64(regs.first<4>(), order);
  }
  return Fail(InvalidArgument("unknown value type"));
}

}  // namespace wattline::modbus
