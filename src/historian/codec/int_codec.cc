#include "historian/codec/int_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include "historian/codec/block_format.h"
#include "historian/codec/frame_fields.h"
#include "wire/coding.h"

namespace wattline::historian::codec {
namespace {

using frame::ClampRound;
using frame::GetSigned;
using frame::PutSigned;
using frame::S;
using frame::SignedBits;

using Residuals = std::array<uint64_t, kIntFrameSize>;  // zigzag-encoded

struct CoderChoice {
  int coder = kFrameCoderPacked;
  int k = 0;
  uint64_t bits = 0;
};

uint64_t RiceBits(const uint64_t* zz, size_t m, int k) {
  uint64_t bits = 0;
  for (size_t i = 0; i < m; ++i) {
    const uint64_t q = zz[i] >> k;
    bits += q < kRiceEscapeOnes
                ? q + 1 + static_cast<uint64_t>(k)
                : kRiceEscapeOnes + 6 + static_cast<uint64_t>(std::bit_width(zz[i]));
  }
  return bits;
}

CoderChoice ChooseCoder(const uint64_t* zz, size_t m) {
  CoderChoice best;
  if (m == 0) return best;
  uint64_t max = 0;
  unsigned __int128 sum = 0;
  for (size_t i = 0; i < m; ++i) {
    max = std::max(max, zz[i]);
    sum += zz[i];
  }
  best.k = std::bit_width(max);
  best.bits = static_cast<uint64_t>(best.k) * m;
  const auto mean = static_cast<uint64_t>(sum / m);
  const int center = std::max(0, static_cast<int>(std::bit_width(mean)) - 1);
  for (int k = std::max(0, center - 1); k <= std::min(63, center + 1); ++k) {
    const uint64_t bits = RiceBits(zz, m, k);
    if (bits < best.bits) best = {kFrameCoderRice, k, bits};
  }
  return best;
}

void PutResiduals(BitWriter* w, const CoderChoice& c, const uint64_t* zz, size_t m) {
  if (c.coder == kFrameCoderPacked) {
    for (size_t i = 0; i < m; ++i) w->Write(zz[i], c.k);
    return;
  }
  for (size_t i = 0; i < m; ++i) {
    const uint64_t q = zz[i] >> c.k;
    if (q < kRiceEscapeOnes) {
      // q ones and the closing zero.
      w->Write((uint64_t{1} << (q + 1)) - 2, static_cast<int>(q) + 1);
      w->Write(zz[i], c.k);
    } else {
      const int width = std::bit_width(zz[i]);
      w->Write((uint64_t{1} << kRiceEscapeOnes) - 1, kRiceEscapeOnes);
      w->Write(static_cast<uint64_t>(width - 1), 6);
      w->Write(zz[i], width);
    }
  }
}

struct FramePlan {
  FramePredictor predictor = FramePredictor::kDelta;
  uint64_t anchor = 0;  // relative to the previous frame's last value
  uint64_t param = 0;   // slope (kLinear) or drift (kDeltaDrift)
  CoderChoice coder;
  Residuals zz{};
  size_t count = 0;  // residuals
  uint64_t total_bits = ~uint64_t{0};
};

void Consider(FramePlan* best, FramePlan* candidate) {
  candidate->coder = ChooseCoder(candidate->zz.data(), candidate->count);
  uint64_t bits =
      3 + 7 + static_cast<uint64_t>(SignedBits(candidate->anchor)) + candidate->coder.bits;
  if (candidate->predictor == FramePredictor::kLinear ||
      candidate->predictor == FramePredictor::kDeltaDrift) {
    bits += static_cast<uint64_t>(SignedBits(candidate->param));
  }
  candidate->total_bits = bits;
  if (bits < best->total_bits) *best = *candidate;
}

void EncodeFrame(const uint64_t* x, size_t m, uint64_t prev, BitWriter* w) {
  FramePlan best;
  FramePlan c;
  // Offsets from the first value, as signed numbers, give the predictors' parameters.
  __int128 sum = 0;
  for (size_t i = 0; i < m; ++i) sum += S(x[i] - x[0]);
  const auto mean = static_cast<int64_t>(sum / static_cast<__int128>(m));

  c.predictor = FramePredictor::kMean;
  const uint64_t base = x[0] + static_cast<uint64_t>(mean);
  c.anchor = base - prev;
  c.count = m;
  for (size_t i = 0; i < m; ++i) c.zz[i] = wire::ZigZagEncode(S(x[i] - base));
  Consider(&best, &c);

  c.predictor = FramePredictor::kDelta;
  c.anchor = x[0] - prev;
  c.count = m - 1;
  for (size_t i = 1; i < m; ++i) c.zz[i - 1] = wire::ZigZagEncode(S(x[i] - x[i - 1]));
  Consider(&best, &c);

  if (m >= 3) {
    __int128 step_sum = 0;
    for (size_t i = 1; i < m; ++i) step_sum += S(x[i] - x[i - 1]);
    const auto drift =
        static_cast<uint64_t>(static_cast<int64_t>(step_sum / static_cast<__int128>(m - 1)));
    c.predictor = FramePredictor::kDeltaDrift;
    c.param = drift;
    for (size_t i = 1; i < m; ++i) c.zz[i - 1] = wire::ZigZagEncode(S(x[i] - x[i - 1] - drift));
    Consider(&best, &c);

    // Least-squares line through the offsets.
    const auto [slope, intercept] = frame::FitLine(x, m, mean);
    c.predictor = FramePredictor::kLinear;
    const uint64_t lbase = x[0] + static_cast<uint64_t>(intercept);
    c.anchor = lbase - prev;
    c.param = static_cast<uint64_t>(slope);
    c.count = m;
    for (size_t i = 0; i < m; ++i) {
      c.zz[i] = wire::ZigZagEncode(S(x[i] - (lbase + static_cast<uint64_t>(slope) * i)));
    }
    Consider(&best, &c);
  }

  w->Write(static_cast<uint64_t>(best.predictor), 2);
  w->Write(static_cast<uint64_t>(best.coder.coder), 1);
  w->Write(static_cast<uint64_t>(best.coder.k), 7);
  PutSigned(w, best.anchor);
  if (best.predictor == FramePredictor::kLinear || best.predictor == FramePredictor::kDeltaDrift) {
    PutSigned(w, best.param);
  }
  PutResiduals(w, best.coder, best.zz.data(), best.count);
}

bool GetResidual(BitReader* r, int coder, int k, uint64_t* zz) {
  if (coder == kFrameCoderPacked) return r->Read(k, zz);
  int q = 0;
  if (!r->ReadUnary(kRiceEscapeOnes, &q)) return false;
  if (q < kRiceEscapeOnes) {
    uint64_t low = 0;
    if (!r->Read(k, &low)) return false;
    // A quotient shifted past bit 63 is not something the encoder writes; it wraps, harmlessly.
    *zz = (static_cast<uint64_t>(q) << k) | low;
    return true;
  }
  uint64_t width = 0;
  if (!r->Read(6, &width)) return false;
  return r->Read(static_cast<int>(width) + 1, zz);
}

}  // namespace

void EncodeIntFrames(std::span<const uint64_t> values, BitWriter* w) {
  uint64_t prev = 0;
  for (size_t start = 0; start < values.size(); start += kIntFrameSize) {
    const size_t m = std::min(kIntFrameSize, values.size() - start);
    EncodeFrame(values.data() + start, m, prev, w);
    prev = values[start + m - 1];
  }
}

bool DecodeIntFrames(BitReader* r, size_t n, std::vector<uint64_t>* out) {
  uint64_t prev = 0;
  size_t done = 0;
  while (done < n) {
    const size_t m = std::min(kIntFrameSize, n - done);
    uint64_t predictor = 0;
    uint64_t coder = 0;
    uint64_t k = 0;
    uint64_t anchor = 0;
    uint64_t param = 0;
    if (!r->Read(2, &predictor) || !r->Read(1, &coder) || !r->Read(7, &k)) return false;
    if (k > (coder == kFrameCoderPacked ? 64u : 63u)) return false;
    if (!GetSigned(r, &anchor)) return false;
    const auto p = static_cast<FramePredictor>(predictor);
    if ((p == FramePredictor::kLinear || p == FramePredictor::kDeltaDrift) &&
        !GetSigned(r, &param)) {
      return false;
    }
    const int ik = static_cast<int>(k);
    const int ic = static_cast<int>(coder);
    uint64_t zz = 0;
    switch (p) {
      case FramePredictor::kMean:
      case FramePredictor::kLinear: {
        const uint64_t base = prev + anchor;
        for (size_t i = 0; i < m; ++i) {
          if (!GetResidual(r, ic, ik, &zz)) return false;
          out->push_back(base + param * i + static_cast<uint64_t>(wire::ZigZagDecode(zz)));
        }
        break;
      }
      case FramePredictor::kDelta:
      case FramePredictor::kDeltaDrift: {
        uint64_t x = prev + anchor;
        out->push_back(x);
        for (size_t i = 1; i < m; ++i) {
          if (!GetResidual(r, ic, ik, &zz)) return false;
          x += param + static_cast<uint64_t>(wire::ZigZagDecode(zz));
          out->push_back(x);
        }
        break;
      }
    }
    done += m;
    prev = out->back();
  }
  return true;
}

void EncodeIntColumn(std::span<const int64_t> values, std::string* out) {
  std::vector<uint64_t> u(values.begin(), values.end());
  BitWriter w(out);
  EncodeIntFrames(u, &w);
  w.Finish();
}

Status DecodeIntColumn(std::string_view in, size_t n, std::vector<int64_t>* out) {
  std::vector<uint64_t> u;
  u.reserve(n);
  BitReader r(in);
  if (!DecodeIntFrames(&r, n, &u)) return DataLoss("block: integer column: truncated or malformed");
  if (!r.AtCleanEnd()) return DataLoss("block: integer column: trailing bytes");
  out->assign(u.begin(), u.end());
  return Status::Ok();
}

}  // namespace wattline::historian::codec
