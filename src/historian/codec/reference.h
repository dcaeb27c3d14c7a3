// Cross-signal prediction ("references", docs/format/historian.md): a float32 signal predicted
// from up to kMaxReferences other signals at the same timestamps, x ~ c0 + c1 r1 + ... + ck rk
// (least squares), stored as the difference of the float32 patterns in sort order. A meter's
// line-to-line voltages, power sums and net energy follow from its other values this way, and
// their residuals are a few float32 steps wide instead of the signal's own noise.
//
// The prediction is evaluated in one fixed order in IEEE double arithmetic and rounded to
// float32, so the decoder reproduces it bit for bit; this file is compiled with
// -ffp-contract=off (no fused multiply-add). Ours, not a library's: the format is ours.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/status.h"

namespace wattline::historian::codec {

inline constexpr size_t kMaxReferences = 3;
// A reference is a signal with an id at most this much below the referring signal's.
inline constexpr int64_t kMaxReferenceOffset = 32;

// The reference signals' values, each aligned to the referring signal's samples.
using ReferenceColumns = std::span<const std::span<const double>>;

// Least-squares coefficients c0 (intercept), c1..ck for `x` from `refs` (k = refs.size(),
// 1..kMaxReferences, every column as long as x). nullopt when a column is constant or
// collinear with others, or a value is not finite.
std::optional<std::vector<double>> FitReferences(std::span<const double> x, ReferenceColumns refs);

// The float32 prediction of sample i: 0 when a reference value or the sum is not finite, the sum
// clamped to the float32 range otherwise. coeffs.size() == refs.size() + 1.
float PredictFromReferences(std::span<const double> coeffs, ReferenceColumns refs, size_t i);

// Residuals of exact float32 values `x`: the sort-order pattern of x minus that of the
// prediction, as integers in doubles (within +-(2^32 - 1)). REQUIRES: every x is a float32.
std::vector<double> ReferenceResiduals(std::span<const double> x, std::span<const double> coeffs,
                                       ReferenceColumns refs);

// Inverse of ReferenceResiduals, in place: `values` holds residuals on entry and the float32
// values on return. kDataLoss when a residual is not an integer or leads outside the float32
// patterns.
Status ApplyReferenceResiduals(std::span<const double> coeffs, ReferenceColumns refs,
                               std::span<double> values);

// Picks up to kMaxReferences of `candidates` (each as long as x) greedily, each step the one
// that leaves the smallest least-squares residual, and keeps the first k of them that promise
// the fewest bits (half a bit a sample per halving of the residual variance, 9 bytes a
// reference; at least a quarter bit a sample saved). Returns indices into candidates; empty
// when none pays.
std::vector<size_t> ChooseReferences(std::span<const double> x, ReferenceColumns candidates);

}  // namespace wattline::historian::codec
