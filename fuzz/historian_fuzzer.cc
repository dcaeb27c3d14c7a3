// libFuzzer target for the historian engine's own formats (docs/format/historian.md): the stored
// block envelope (quality runs around a codec block; version 2 with references to other
// signals), the write-ahead log record and a window's stored rollups. The first byte picks the
// decoder (0, 1, 2; others: all three on the rest). Each must refuse damaged input with an error,
// never crash or read out of bounds, and whatever it accepts must encode back to bytes that decode
// to the same thing. Build and run: see fuzz/CMakeLists.txt. Seed corpus: testdata/historian/.
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "historian/codec/reference.h"
#include "historian/engine.h"

namespace {

using namespace wattline::historian;

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

void StoredBlockRoundTrip(std::string_view in) {
  auto block = DecodeStoredBlock(in);
  if (!block) return;
  // A referenced block (version 2) keeps its references and residuals.
  auto again =
      block->refs.offsets.empty()
          ? EncodeStoredBlock(block->ts_ms, block->values, block->quality)
          : EncodeReferencedBlock(block->ts_ms, block->values, block->quality, block->refs);
  if (!again) std::abort();  // a decoded block always fits some kind
  auto back = DecodeStoredBlock(*again);
  if (!back || back->ts_ms != block->ts_ms || back->quality != block->quality ||
      back->refs.offsets != block->refs.offsets) {
    std::abort();
  }
  for (size_t i = 0; i < back->refs.coeffs.size(); ++i) {
    if (!SameBits(back->refs.coeffs[i], block->refs.coeffs[i])) std::abort();
  }
  for (size_t i = 0; i < back->values.size(); ++i) {
    if (!SameBits(back->values[i], block->values[i])) std::abort();
  }
  if (block->refs.offsets.empty()) return;
  // The residuals against made-up reference columns: whatever applies must give the same
  // residuals back.
  std::vector<std::vector<double>> cols(block->refs.offsets.size());
  for (size_t k = 0; k < cols.size(); ++k) {
    for (int64_t t : block->ts_ms) cols[k].push_back(static_cast<double>(t % 100000) + k);
  }
  std::vector<std::span<const double>> spans(cols.begin(), cols.end());
  std::vector<double> values = block->values;
  if (!codec::ApplyReferenceResiduals(block->refs.coeffs, spans, values).ok()) return;
  auto residuals = codec::ReferenceResiduals(values, block->refs.coeffs, spans);
  for (size_t i = 0; i < residuals.size(); ++i) {
    // A signalling NaN pattern comes back quiet from float to double: only NaNs may differ.
    if (residuals[i] != block->values[i] && !std::isnan(values[i])) std::abort();
  }
}

void WalRoundTrip(std::string_view in) {
  auto samples = DecodeWalRecord(in);
  if (!samples) return;
  auto back = DecodeWalRecord(EncodeWalRecord(*samples));
  if (!back || back->size() != samples->size()) std::abort();
  for (size_t i = 0; i < back->size(); ++i) {
    const auto& a = (*back)[i];
    const auto& b = (*samples)[i];
    if (a.signal_id != b.signal_id || a.ts_ms != b.ts_ms || !SameBits(a.value, b.value) ||
        a.quality != b.quality) {
      std::abort();
    }
  }
}

void RollupsRoundTrip(std::string_view in) {
  constexpr int64_t kWindow = 1'735'689'600'000;
  auto aggs = DecodeRollups(kWindow, in);
  if (!aggs) return;
  auto back = DecodeRollups(kWindow, EncodeRollups(kWindow, *aggs));
  if (!back || back->size() != aggs->size()) std::abort();
  for (size_t i = 0; i < back->size(); ++i) {
    const auto& a = (*back)[i];
    const auto& b = (*aggs)[i];
    if (a.start_ms != b.start_ms || a.end_ms != b.end_ms || a.count != b.count ||
        a.weighted_ms != b.weighted_ms || !SameBits(a.mean, b.mean) ||
        a.consumption.has_value() != b.consumption.has_value()) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 0:
      StoredBlockRoundTrip(rest);
      break;
    case 1:
      WalRoundTrip(rest);
      break;
    case 2:
      RollupsRoundTrip(rest);
      break;
    default:
      StoredBlockRoundTrip(rest);
      WalRoundTrip(rest);
      RollupsRoundTrip(rest);
  }
  return 0;
}
