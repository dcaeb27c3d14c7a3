// Constants of the sealed-block format (docs/format/block.md). Part of the on-disk format:
// never change. A new layout gets a new version byte.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wattline::historian::codec {

inline constexpr uint8_t kBlockVersion = 1;
inline constexpr size_t kMaxBlockSamples = 65536;
inline constexpr size_t kBlockChecksumBytes = 4;  // CRC-32C, little-endian, last field

// ---- Timestamp column ----
// A nonzero delta-of-delta (zigzag) is a unary prefix of 1 bits closed by a 0 bit (the fifth
// bucket has no closing bit), then the value in the bucket's width.
struct TsBucket {
  uint8_t prefix;
  int prefix_bits;
  int value_bits;
};
inline constexpr TsBucket kTsBuckets[] = {
    {0b10, 2, 7}, {0b110, 3, 12}, {0b1110, 4, 20}, {0b11110, 5, 32}, {0b11111, 5, 64}};
inline constexpr int kTsMaxPrefixOnes = 5;
// A run of up to kMaxBlockSamples repeated deltas needs at most 16 leading zeros in gamma code.
inline constexpr int kTsMaxGammaZeros = 16;

// ---- Integer frames (int_codec.h): shared by kIntDelta, kAlp and kOrderedInt ----
inline constexpr size_t kIntFrameSize = 256;
// Frame predictor, 2 bits.
enum class FramePredictor : uint8_t { kMean = 0, kLinear = 1, kDelta = 2, kDeltaDrift = 3 };
// Rice quotients of kRiceEscapeOnes or more are escaped: that many 1 bits, 6 bits holding
// (bit width - 1) of the zigzag residual, then the residual in that width.
inline constexpr int kRiceEscapeOnes = 24;
// Frame coder, 1 bit after the predictor: Rice(k) or plain k-bit packing.
inline constexpr int kFrameCoderRice = 0;
inline constexpr int kFrameCoderPacked = 1;

// ---- rANS integer frames (rans_int_codec.h): kOrderedRans ----
// Frames of kIntFrameSize values; the frame predictor is 3 bits.
enum class RansPredictor : uint8_t {
  kMean = 0,
  kLinear = 1,
  kDelta = 2,
  kDeltaDrift = 3,
  kTwoMeans = 4,  // the mean of values [0, split) and another for [split, m)
};
inline constexpr int kRansPredictorBits = 3;
inline constexpr int kRansSplitBits = 8;  // split index 1..m-1 of a kTwoMeans frame
// Each frame stores the low `shift` bits of its residuals raw: one bit "new shift" (else the
// previous frame's, 0 before the first), then 6 bits, 0..63. The encoder starts from the shift
// that leaves kRansShapeBits bits in the frame's mean zigzag residual.
inline constexpr int kRansShiftBits = 6;
inline constexpr int kRansShapeBits = 5;
// Residual symbols: zigzag values 0..3 are symbols 0..3; a zigzag value of bit width b >= 3 is
// symbol 4 + 4 (b - 3) + (its two bits below the leading one), followed by its b - 3 low bits.
inline constexpr int kRansSymbols = 252;                      // b = 64 gives the last symbol, 251
inline constexpr int kRansProbBits = 12;                      // symbol frequencies sum to 2^12
inline constexpr uint32_t kRansStateLow = uint32_t{1} << 23;  // state in [2^23, 2^31)
// Table: first symbol (8 bits), number of symbols (8 bits), then a 4-bit weight code per symbol
// (0: absent; q in 1..15: weight kRansWeights[q], about 16 * 2^((q - 1) / 2)).
inline constexpr int kRansWeightCodeBits = 4;
inline constexpr uint32_t kRansWeights[16] = {0,   16,  23,  32,  45,  64,   91,   128,
                                              181, 256, 362, 512, 724, 1024, 1448, 2048};

// ---- Chimp ----
// Leading-zero counts rounded down to one of 8 values, stored as a 3-bit index.
inline constexpr int kChimpLeading64[8] = {0, 8, 12, 16, 18, 20, 22, 24};
inline constexpr int kChimpLeading32[8] = {0, 4, 8, 10, 12, 14, 16, 18};
inline constexpr int kChimpTrailingThreshold64 = 6;
inline constexpr int kChimpTrailingThreshold32 = 5;
inline constexpr int kChimp128Window = 128;  // previous values a Chimp128 value may refer to

// ---- ALP ----
inline constexpr int kAlpMaxExponent64 = 18;
inline constexpr int kAlpMaxExponent32 = 10;

}  // namespace wattline::historian::codec
