// Value columns for floating-point samples (docs/format/block.md). The XOR codecs and kOrderedInt
// work on bit patterns ("words") of `width` 32 (float32 samples) or 64 bits (doubles), so every
// pattern, NaN payloads and -0.0 included, round-trips. ALP works on the values themselves and
// stores what it cannot represent as exceptions. Every decoder reads exactly its input: kDataLoss
// when it is truncated, malformed or has bytes left over. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wattline::historian::codec {

// Words as stored: little-endian, width / 8 bytes each.
void EncodeRawWords(std::span<const uint64_t> words, int width, std::string* out);
Status DecodeRawWords(std::string_view in, size_t n, int width, std::vector<uint64_t>* out);

// Gorilla (Pelkonen et al., VLDB 2015): XOR with the previous value, reusing the previous
// leading/trailing-zero window when the new XOR fits in it.
void EncodeGorilla(std::span<const uint64_t> words, int width, std::string* out);
Status DecodeGorilla(std::string_view in, size_t n, int width, std::vector<uint64_t>* out);

// Chimp (Liakos et al., VLDB 2022): XOR with the previous value, with rounded leading-zero
// counts and a separate case for XORs with many trailing zeros.
void EncodeChimp(std::span<const uint64_t> words, int width, std::string* out);
Status DecodeChimp(std::string_view in, size_t n, int width, std::vector<uint64_t>* out);

// Chimp128: as Chimp, but the reference may be any of the previous 128 values (the one whose
// low bits match, found through a hash of the low bits).
void EncodeChimp128(std::span<const uint64_t> words, int width, std::string* out);
Status DecodeChimp128(std::string_view in, size_t n, int width, std::vector<uint64_t>* out);

// Bit patterns mapped to integers in the order of the values they encode (negative values
// reversed below the positive ones), then integer frames (int_codec.h): small value changes
// become small integer differences.
void EncodeOrderedInt(std::span<const uint64_t> words, int width, std::string* out);
Status DecodeOrderedInt(std::string_view in, size_t n, int width, std::vector<uint64_t>* out);

// As EncodeOrderedInt, but the integer frames' residuals are entropy-coded with rANS
// (rans_int_codec.h) and frames may also split into two levels.
void EncodeOrderedRans(std::span<const uint64_t> words, int width, std::string* out);
Status DecodeOrderedRans(std::string_view in, size_t n, int width, std::vector<uint64_t>* out);

// ALP-like decimal codec (after Afroozeh et al., SIGMOD 2024): one decimal exponent e per
// column; each value v is stored as the integer round(v * 10^e) in integer frames when
// n / 10^e (rounded to float when `float32`) gives back exactly v; other values (NaN, -0.0,
// infinities, values with more digits) are exceptions stored raw. REQUIRES for `float32`: every
// value is an exact float32.
void EncodeAlp(std::span<const double> values, bool float32, std::string* out);
Status DecodeAlp(std::string_view in, size_t n, bool float32, std::vector<double>* out);

}  // namespace wattline::historian::codec
