// Decoding and encoding of multi-register values (16/32/64-bit integers and IEEE-754 floats)
// held in Modbus registers, in any of the four word/byte orders found in the field.
//
// Naming: the value's bytes, most significant first, are A B C D (E F G H for 64-bit).
//   kABCD  high word first, high byte first ("big-endian", Janitza, ABB, mbpoll -B)
//   kCDAB  low word first, high byte first  ("word swap", mbpoll's default)
//   kBADC  high word first, bytes swapped in each word
//   kDCBA  low word first, bytes swapped    (fully little-endian)
// For 16-bit values only the byte swap matters. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/status.h"

namespace wattline::modbus {

enum class WordOrder : uint8_t { kABCD, kCDAB, kBADC, kDCBA };

// "ABCD" <-> WordOrder. ParseWordOrder returns kInvalidArgument for other text.
std::string_view WordOrderName(WordOrder order);
Result<WordOrder> ParseWordOrder(std::string_view text);

uint16_t DecodeUint16(uint16_t reg, WordOrder order);
int16_t DecodeInt16(uint16_t reg, WordOrder order);
uint32_t DecodeUint32(std::span<const uint16_t, 2> regs, WordOrder order);
int32_t DecodeInt32(std::span<const uint16_t, 2> regs, WordOrder order);
float DecodeFloat32(std::span<const uint16_t, 2> regs, WordOrder order);
uint64_t DecodeUint64(std::span<const uint16_t, 4> regs, WordOrder order);
int64_t DecodeInt64(std::span<const uint16_t, 4> regs, WordOrder order);
double DecodeFloat64(std::span<const uint16_t, 4> regs, WordOrder order);

// The inverse, for servers and tests.
std::array<uint16_t, 2> EncodeUint32(uint32_t value, WordOrder order);
std::array<uint16_t, 2> EncodeFloat32(float value, WordOrder order);
std::array<uint16_t, 4> EncodeFloat64(double value, WordOrder order);

// A value type as named in driver profiles.
enum class ValueType : uint8_t {
  kInt16,
  kUint16,
  kInt32,
  kUint32,
  kFloat32,
  kInt64,
  kUint64,
  kFloat64
};

// "float32" <-> ValueType; ParseValueType returns kInvalidArgument for unknown names.
std::string_view ValueTypeName(ValueType type);
Result<ValueType> ParseValueType(std::string_view text);
// Registers the type occupies: 1, 2 or 4.
uint16_t RegisterCount(ValueType type);

// Decodes the first RegisterCount(type) registers of `regs` as a double (64-bit integers may
// lose precision above 2^53). kInvalidArgument when `regs` is too short.
Result<double> DecodeAsDouble(std::span<const uint16_t> regs, ValueType type, WordOrder order);

}  // namespace wattline::modbus
