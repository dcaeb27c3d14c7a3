#include "historian/codec/rans_int_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include "historian/codec/bit_stream.h"
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

constexpr uint32_t kProbScale = uint32_t{1} << kRansProbBits;

// ---- Residual symbols ----

inline int SymbolOf(uint64_t zz) {
  if (zz < 4) return static_cast<int>(zz);
  const int b = std::bit_width(zz);
  return 4 + 4 * (b - 3) + static_cast<int>((zz >> (b - 3)) & 3);
}
// Low bits that follow symbol `s`.
inline int RawBitsOf(int s) { return s < 4 ? 0 : (s - 4) / 4; }
// The zigzag value of symbol `s` with its low bits zero.
inline uint64_t BaseOf(int s) {
  if (s < 4) return static_cast<uint64_t>(s);
  return static_cast<uint64_t>(4 | ((s - 4) & 3)) << RawBitsOf(s);
}

// The symbol of zz >> sh, given s = SymbolOf(zz): shifting drops whole bit widths, so only
// residuals that shrink below 3 bits need their leading bits.
inline int ShiftSymbol(int s, int sh) {
  if (s < 4) return sh >= 2 ? 0 : s >> sh;
  const int b = RawBitsOf(s) + 3 - sh;  // bit width after the shift
  if (b >= 3) return s - 4 * sh;
  if (b <= 0) return 0;
  return (4 | ((s - 4) & 3)) >> (3 - b);
}

// ---- Frequency table ----

// Turns weight codes into frequencies summing to kProbScale. Encoder and decoder both run this,
// so it must stay deterministic integer arithmetic. REQUIRES: at least one code is nonzero.
void Normalize(const std::array<uint8_t, kRansSymbols>& codes,
               std::array<uint32_t, kRansSymbols>* freq) {
  uint64_t total = 0;
  for (uint8_t q : codes) total += kRansWeights[q];
  uint32_t sum = 0;
  for (int s = 0; s < kRansSymbols; ++s) {
    const uint32_t w = kRansWeights[codes[s]];
    (*freq)[s] = w == 0 ? 0 : std::max<uint32_t>(1, static_cast<uint32_t>(w * kProbScale / total));
    sum += (*freq)[s];
  }
  // Rounding up the rarest symbols to 1 may overshoot; there are at most 252 symbols, so some
  // frequency is above 1 while the sum is above kProbScale.
  while (sum > kProbScale) {
    const auto top =
        static_cast<size_t>(std::max_element(freq->begin(), freq->end()) - freq->begin());
    const uint32_t cut = std::min((*freq)[top] - 1, sum - kProbScale);
    (*freq)[top] -= cut;
    sum -= cut;
  }
  if (sum < kProbScale) *std::max_element(freq->begin(), freq->end()) += kProbScale - sum;
}

// Weight codes from symbol counts: half-octave steps below the most frequent symbol.
std::array<uint8_t, kRansSymbols> QuantizeCounts(const std::array<uint32_t, kRansSymbols>& counts) {
  std::array<uint8_t, kRansSymbols> codes{};
  const uint32_t top = *std::max_element(counts.begin(), counts.end());
  for (int s = 0; s < kRansSymbols; ++s) {
    if (counts[s] == 0) continue;
    const double q =
        15 + std::round(2 * std::log2(static_cast<double>(counts[s]) / static_cast<double>(top)));
    codes[s] = static_cast<uint8_t>(std::clamp(q, 1.0, 15.0));
  }
  return codes;
}

// ---- Frame planning ----

struct Frame {
  RansPredictor predictor = RansPredictor::kDelta;
  uint64_t anchor = 0;  // relative to the level the previous frame ended at (Level)
  uint64_t param = 0;   // slope (kLinear), drift (kDeltaDrift), second mean - first (kTwoMeans)
  size_t split = 0;     // kTwoMeans
  size_t first = 0;     // index of the first value with a residual (1 for the delta kinds)
  size_t count = 0;     // residuals: m - first
  int shift = 0;        // low bits of each residual stored raw, before its symbol
  uint64_t bits = ~uint64_t{0};  // estimate: header plus the bit widths of the residuals
};

uint64_t HeaderBits(const Frame& f) {
  uint64_t bits = kRansPredictorBits + static_cast<uint64_t>(SignedBits(f.anchor));
  if (f.predictor != RansPredictor::kMean && f.predictor != RansPredictor::kDelta) {
    bits += static_cast<uint64_t>(SignedBits(f.param));
  }
  if (f.predictor == RansPredictor::kTwoMeans) bits += kRansSplitBits;
  return bits;
}

// The prediction of x[i] for i >= f.first, given the previous frame's level `prev` (see Level).
inline uint64_t Predict(const Frame& f, uint64_t prev, const uint64_t* x, size_t i) {
  switch (f.predictor) {
    case RansPredictor::kMean:
      return prev + f.anchor;
    case RansPredictor::kLinear:
      return prev + f.anchor + f.param * i;
    case RansPredictor::kDelta:
      return x[i - 1];
    case RansPredictor::kDeltaDrift:
      return x[i - 1] + f.param;
    case RansPredictor::kTwoMeans:
      return prev + f.anchor + (i >= f.split ? f.param : 0);
  }
  return 0;
}

// What the next frame's anchor is relative to: the level this frame ended at, which for the
// level predictors is less noisy than the last value.
inline uint64_t Level(const Frame& f, uint64_t prev, const uint64_t* x, size_t m) {
  switch (f.predictor) {
    case RansPredictor::kMean:
      return prev + f.anchor;
    case RansPredictor::kLinear:
      return prev + f.anchor + f.param * (m - 1);
    case RansPredictor::kTwoMeans:
      return prev + f.anchor + f.param;
    case RansPredictor::kDelta:
    case RansPredictor::kDeltaDrift:
      break;
  }
  return x[m - 1];
}

// Estimated bits: the bit widths stand in for the entropy coder's cost, which grows with the
// logarithm of the residual.
void Consider(const uint64_t* x, size_t m, uint64_t prev, Frame* best, Frame c) {
  uint64_t bits = HeaderBits(c);
  for (size_t i = c.first; i < m; ++i) {
    bits +=
        static_cast<uint64_t>(std::bit_width(wire::ZigZagEncode(S(x[i] - Predict(c, prev, x, i)))));
  }
  c.bits = bits;
  if (bits < best->bits) *best = c;
}

Frame PlanFrame(const uint64_t* x, size_t m, uint64_t prev) {
  Frame best;
  // Offsets from the first value, as signed numbers, give the predictors' parameters.
  std::array<double, kIntFrameSize + 1> prefix{};  // prefix[i]: sum of the first i offsets
  for (size_t i = 0; i < m; ++i) prefix[i + 1] = prefix[i] + static_cast<double>(S(x[i] - x[0]));
  const int64_t mean = ClampRound(prefix[m] / static_cast<double>(m));

  Consider(
      x, m, prev, &best,
      {.predictor = RansPredictor::kMean, .anchor = x[0] + static_cast<uint64_t>(mean) - prev});
  Consider(x, m, prev, &best,
           {.predictor = RansPredictor::kDelta, .anchor = x[0] - prev, .first = 1});
  if (m < 4) return best;

  const auto drift = static_cast<uint64_t>(
      ClampRound(static_cast<double>(S(x[m - 1] - x[0])) / static_cast<double>(m - 1)));
  Consider(
      x, m, prev, &best,
      {.predictor = RansPredictor::kDeltaDrift, .anchor = x[0] - prev, .param = drift, .first = 1});

  // Least-squares line through the offsets.
  const auto [slope, intercept] = frame::FitLine(x, m, mean);
  Consider(x, m, prev, &best,
           {.predictor = RansPredictor::kLinear,
            .anchor = x[0] + static_cast<uint64_t>(intercept) - prev,
            .param = static_cast<uint64_t>(slope)});

  // Two means: the split that leaves the smallest sum of squares, that is the largest
  // S1^2 / j + S2^2 / (m - j) over the offsets' partial sums.
  size_t split = 0;
  double score = -1;
  for (size_t j = 1; j < m; ++j) {
    const double s1 = prefix[j];
    const double s2 = prefix[m] - prefix[j];
    const double v = s1 * s1 / static_cast<double>(j) + s2 * s2 / static_cast<double>(m - j);
    if (v > score) {
      score = v;
      split = j;
    }
  }
  if (split > 0) {
    const int64_t mean1 = ClampRound(prefix[split] / static_cast<double>(split));
    const int64_t mean2 = ClampRound((prefix[m] - prefix[split]) / static_cast<double>(m - split));
    Consider(x, m, prev, &best,
             {.predictor = RansPredictor::kTwoMeans,
              .anchor = x[0] + static_cast<uint64_t>(mean1) - prev,
              .param = static_cast<uint64_t>(mean2) - static_cast<uint64_t>(mean1),
              .split = split});
  }
  return best;
}

// The shift that leaves the frame's mean residual with kRansShapeBits bits: the table then
// describes the residuals' shape, and each frame scales it to its own noise.
int ShiftFor(const uint64_t* x, size_t m, uint64_t prev, const Frame& f) {
  if (f.first >= m) return 0;
  unsigned __int128 sum = 0;
  for (size_t i = f.first; i < m; ++i) sum += wire::ZigZagEncode(S(x[i] - Predict(f, prev, x, i)));
  const auto mean = static_cast<uint64_t>(sum / (m - f.first));
  return std::max(0, static_cast<int>(std::bit_width(mean)) - kRansShapeBits);
}

// Code lengths in 1/256 bit of the residual symbols under a table, plus their low bits.
std::array<uint32_t, kRansSymbols> CodeLengths(const std::array<uint8_t, kRansSymbols>& codes) {
  std::array<uint32_t, kRansSymbols> freq{};
  Normalize(codes, &freq);
  std::array<uint32_t, kRansSymbols> len{};
  for (int s = 0; s < kRansSymbols; ++s) {
    // A symbol outside the table would be added to it: about as rare as the rarest.
    const double p = freq[s] == 0 ? 1.0 / kProbScale : freq[s] / static_cast<double>(kProbScale);
    len[s] = static_cast<uint32_t>(std::lround(256 * (RawBitsOf(s) - std::log2(p))));
  }
  return len;
}

// Picks the frame's shift near its mean-based one that is cheapest under the code lengths
// `len`, counting the header's shift field: frames that keep the previous frame's shift pay 1
// bit, others 1 + kRansShiftBits.
int BestShift(const uint8_t* fine, size_t count, int ideal, int prev_shift,
              const std::array<uint32_t, kRansSymbols>& len) {
  // Costs per shift from the frame's histogram of unshifted symbols: a few dozen distinct
  // symbols instead of every residual for every shift.
  std::array<uint16_t, kRansSymbols> hist{};
  int lo = kRansSymbols;
  int hi = -1;
  for (size_t i = 0; i < count; ++i) {
    ++hist[fine[i]];
    lo = std::min<int>(lo, fine[i]);
    hi = std::max<int>(hi, fine[i]);
  }
  int best = ideal;
  uint64_t best_cost = ~uint64_t{0};
  for (int sh = std::max(0, ideal - 2); sh <= std::min(63, ideal + 1); ++sh) {
    uint64_t cost = 256 * (sh == prev_shift ? 1 : 1 + kRansShiftBits + 0ull) +
                    256ull * static_cast<unsigned>(sh) * count;
    for (int s = lo; s <= hi; ++s) cost += uint64_t{hist[s]} * len[ShiftSymbol(s, sh)];
    if (cost < best_cost) {
      best_cost = cost;
      best = sh;
    }
  }
  return best;
}

void PutFrameHeader(BitWriter* w, const Frame& f, int prev_shift) {
  w->Write(static_cast<uint64_t>(f.predictor), kRansPredictorBits);
  w->WriteBit(f.shift != prev_shift);
  if (f.shift != prev_shift) w->Write(static_cast<uint64_t>(f.shift), kRansShiftBits);
  PutSigned(w, f.anchor);
  if (f.predictor == RansPredictor::kTwoMeans) w->Write(f.split, kRansSplitBits);
  if (f.predictor != RansPredictor::kMean && f.predictor != RansPredictor::kDelta) {
    PutSigned(w, f.param);
  }
}

Status Corrupt(std::string_view codec, std::string_view what) {
  return DataLoss("block: value column (" + std::string(codec) + "): " + std::string(what));
}

// rANS decoder state over the byte stream: 32-bit state, byte-wise renormalization
// (after ryg_rans, "rans_byte.h").
class RansDecoder {
 public:
  explicit RansDecoder(std::string_view in) : in_(in) {}

  bool Init() {
    if (in_.size() < 4) return false;
    for (int i = 0; i < 4; ++i) x_ = (x_ << 8) | static_cast<unsigned char>(in_[pos_++]);
    return true;
  }
  uint32_t slot() const { return x_ & (kProbScale - 1); }
  // Consumes the symbol with frequency `freq` starting at `start` whose range holds slot().
  bool Advance(uint32_t freq, uint32_t start) {
    x_ = freq * (x_ >> kRansProbBits) + slot() - start;
    while (x_ < kRansStateLow) {
      if (pos_ >= in_.size()) return false;
      x_ = (x_ << 8) | static_cast<unsigned char>(in_[pos_++]);
    }
    return true;
  }
  // The encoder starts from kRansStateLow: a stream that decoded right ends there, with every
  // byte used.
  bool AtCleanEnd() const { return pos_ == in_.size() && x_ == kRansStateLow; }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  uint32_t x_ = 0;
};

}  // namespace

void EncodeRansIntColumn(std::span<const uint64_t> values, std::string* out) {
  const size_t n = values.size();
  if (n == 0) return;
  std::string bits;
  BitWriter w(&bits);

  // Plan every frame first: the table must precede the first frame. The predictors and a first
  // shift per frame give a first table; under it each frame then picks the shift that costs
  // least, so that frames of the same noise keep one shift, and the final table follows.
  std::vector<Frame> frames;
  frames.reserve((n + kIntFrameSize - 1) / kIntFrameSize);
  std::vector<uint64_t> residuals;  // zigzag, in coding order
  residuals.reserve(n);
  std::vector<uint8_t> fine;  // their symbols before any shift
  fine.reserve(n);
  std::array<uint32_t, kRansSymbols> counts{};
  uint64_t prev = 0;
  for (size_t start = 0; start < n; start += kIntFrameSize) {
    const size_t m = std::min(kIntFrameSize, n - start);
    const uint64_t* x = values.data() + start;
    frames.push_back(PlanFrame(x, m, prev));
    Frame& f = frames.back();
    f.shift = ShiftFor(x, m, prev, f);
    f.count = m - f.first;
    for (size_t i = f.first; i < m; ++i) {
      residuals.push_back(wire::ZigZagEncode(S(x[i] - Predict(f, prev, x, i))));
      fine.push_back(static_cast<uint8_t>(SymbolOf(residuals.back())));
      ++counts[ShiftSymbol(fine.back(), f.shift)];
    }
    prev = Level(f, prev, x, m);
  }
  std::vector<uint8_t> symbols(residuals.size());
  if (!residuals.empty()) {
    const std::array<uint32_t, kRansSymbols> len = CodeLengths(QuantizeCounts(counts));
    counts = {};
    int prev_shift = 0;
    size_t next = 0;
    for (Frame& f : frames) {
      const size_t start = next;
      const size_t count = f.count;
      f.shift = BestShift(fine.data() + start, count, f.shift, prev_shift, len);
      for (; next < start + count; ++next) {
        symbols[next] = static_cast<uint8_t>(ShiftSymbol(fine[next], f.shift));
        ++counts[symbols[next]];
      }
      prev_shift = f.shift;
    }
  }

  // The table.
  std::array<uint8_t, kRansSymbols> codes{};
  int lo = 0;
  int count = 0;
  if (!symbols.empty()) {
    codes = QuantizeCounts(counts);
    while (codes[lo] == 0) ++lo;
    int hi = kRansSymbols - 1;
    while (codes[hi] == 0) --hi;
    count = hi - lo + 1;
  }
  w.Write(static_cast<uint64_t>(lo), 8);
  w.Write(static_cast<uint64_t>(count), 8);
  for (int s = lo; s < lo + count; ++s) w.Write(codes[s], kRansWeightCodeBits);

  // Frame headers and the residuals' low bits, in decoding order.
  int prev_shift = 0;
  size_t next = 0;
  for (const Frame& f : frames) {
    PutFrameHeader(&w, f, prev_shift);
    for (const size_t end = next + f.count; next < end; ++next) {
      w.Write(residuals[next], RawBitsOf(symbols[next]) + f.shift);
    }
    prev_shift = f.shift;
  }
  w.Finish();

  // rANS runs backwards: encode the symbols last to first, then reverse the bytes, so that the
  // decoder reads them first to last.
  std::string rans;
  if (!symbols.empty()) {
    std::array<uint32_t, kRansSymbols> freq{};
    Normalize(codes, &freq);
    std::array<uint32_t, kRansSymbols> cum{};
    for (int s = 1; s < kRansSymbols; ++s) cum[s] = cum[s - 1] + freq[s - 1];
    rans.reserve(symbols.size() * 2 + 4);
    // Division by the frequency through a multiplication by its reciprocal (ryg_rans,
    // RansEncSymbolInit): x / f = (x * rcp) >> (32 + rcp_shift), exact for 32-bit x.
    struct EncSymbol {
      uint32_t x_max;
      uint32_t rcp;
      uint32_t bias;
      uint32_t cmpl;
      int rcp_shift;
    };
    std::array<EncSymbol, kRansSymbols> enc{};
    for (int s = 0; s < kRansSymbols; ++s) {
      const uint32_t f = freq[s];
      if (f == 0) continue;
      EncSymbol& e = enc[s];
      e.x_max = ((kRansStateLow >> kRansProbBits) << 8) * f;
      e.cmpl = kProbScale - f;
      if (f < 2) {
        e.rcp = ~uint32_t{0};
        e.rcp_shift = 0;
        e.bias = cum[s] + kProbScale - 1;
      } else {
        int shift = 0;
        while (f > (uint32_t{1} << shift)) ++shift;
        e.rcp = static_cast<uint32_t>(((uint64_t{1} << (shift + 31)) + f - 1) / f);
        e.rcp_shift = shift - 1;
        e.bias = cum[s];
      }
    }
    uint32_t x = kRansStateLow;
    for (size_t i = symbols.size(); i-- > 0;) {
      const EncSymbol& e = enc[symbols[i]];
      while (x >= e.x_max) {
        rans.push_back(static_cast<char>(x & 0xFF));
        x >>= 8;
      }
      const auto q = static_cast<uint32_t>((static_cast<uint64_t>(x) * e.rcp) >> 32) >> e.rcp_shift;
      x = x + e.bias + q * e.cmpl;
    }
    for (int i = 0; i < 4; ++i) {
      rans.push_back(static_cast<char>(x & 0xFF));
      x >>= 8;
    }
    std::reverse(rans.begin(), rans.end());
  } else {
    // No residuals: the decoder still starts from and ends at the initial state.
    for (int i = 3; i >= 0; --i)
      rans.push_back(static_cast<char>((kRansStateLow >> (8 * i)) & 0xFF));
  }
  wire::PutVarint64(out, rans.size());
  out->append(rans);
  out->append(bits);
}

Status DecodeRansIntColumn(std::string_view in, size_t n, std::string_view codec,
                           std::vector<uint64_t>* out) {
  out->clear();
  if (n == 0) return in.empty() ? Status::Ok() : Corrupt(codec, "trailing bytes");
  uint64_t rans_len = 0;
  if (wire::GetVarint64(&in, &rans_len) != wire::VarintError::kOk || rans_len > in.size()) {
    return Corrupt(codec, "truncated rANS stream");
  }
  RansDecoder rans(in.substr(0, rans_len));
  BitReader r(in.substr(rans_len));
  if (!rans.Init()) return Corrupt(codec, "truncated rANS state");

  // The table.
  uint64_t lo = 0;
  uint64_t count = 0;
  if (!r.Read(8, &lo) || !r.Read(8, &count)) return Corrupt(codec, "truncated table");
  if (lo + count > kRansSymbols) return Corrupt(codec, "table symbols out of range");
  std::array<uint8_t, kRansSymbols> codes{};
  bool any = false;
  for (uint64_t s = lo; s < lo + count; ++s) {
    uint64_t q = 0;
    if (!r.Read(kRansWeightCodeBits, &q)) return Corrupt(codec, "truncated table");
    codes[s] = static_cast<uint8_t>(q);
    any = any || q != 0;
  }
  std::array<uint32_t, kRansSymbols> freq{};
  std::array<uint32_t, kRansSymbols> cum{};
  std::array<uint8_t, kProbScale> slot_symbol{};
  if (any) {
    Normalize(codes, &freq);
    for (int s = 0; s < kRansSymbols; ++s) {
      if (s > 0) cum[s] = cum[s - 1] + freq[s - 1];
      for (uint32_t j = 0; j < freq[s]; ++j) slot_symbol[cum[s] + j] = static_cast<uint8_t>(s);
    }
  }

  out->reserve(n);
  uint64_t prev = 0;
  int prev_shift = 0;
  for (size_t done = 0; done < n;) {
    const size_t m = std::min(kIntFrameSize, n - done);
    uint64_t predictor = 0;
    Frame f;
    if (!r.Read(kRansPredictorBits, &predictor) ||
        predictor > static_cast<uint64_t>(RansPredictor::kTwoMeans)) {
      return Corrupt(codec, "truncated frame header or unknown predictor");
    }
    f.predictor = static_cast<RansPredictor>(predictor);
    bool new_shift = false;
    uint64_t shift = static_cast<uint64_t>(prev_shift);
    if (!r.ReadBit(&new_shift) || (new_shift && !r.Read(kRansShiftBits, &shift))) {
      return Corrupt(codec, "truncated frame header");
    }
    f.shift = prev_shift = static_cast<int>(shift);
    if (!GetSigned(&r, &f.anchor)) return Corrupt(codec, "truncated or bad frame anchor");
    if (f.predictor == RansPredictor::kTwoMeans) {
      uint64_t split = 0;
      if (!r.Read(kRansSplitBits, &split) || split == 0 || split >= m) {
        return Corrupt(codec, "truncated or bad split of a two-means frame");
      }
      f.split = static_cast<size_t>(split);
    }
    if (f.predictor != RansPredictor::kMean && f.predictor != RansPredictor::kDelta &&
        !GetSigned(&r, &f.param)) {
      return Corrupt(codec, "truncated or bad frame parameter");
    }
    uint64_t* x = nullptr;
    const size_t base = out->size();
    if (f.predictor == RansPredictor::kDelta || f.predictor == RansPredictor::kDeltaDrift) {
      f.first = 1;
      out->push_back(prev + f.anchor);
    }
    for (size_t i = f.first; i < m; ++i) {
      if (!any) return Corrupt(codec, "residual but an empty table");
      const uint32_t slot = rans.slot();
      const int s = slot_symbol[slot];
      if (!rans.Advance(freq[s], cum[s])) return Corrupt(codec, "truncated rANS stream");
      // The symbol's bits and the shift must fit 64 bits, as every residual written does.
      const int raw = RawBitsOf(s) + f.shift;
      if (raw + (s < 4 ? std::bit_width(static_cast<unsigned>(s)) : 3) > 64) {
        return Corrupt(codec, "residual wider than 64 bits");
      }
      uint64_t low = 0;
      if (!r.Read(raw, &low)) return Corrupt(codec, "truncated residual bits");
      const uint64_t zz = (BaseOf(s) << f.shift) | low;
      x = out->data() + base;
      out->push_back(Predict(f, prev, x, i) + static_cast<uint64_t>(wire::ZigZagDecode(zz)));
    }
    x = out->data() + base;
    prev = Level(f, prev, x, m);
    done += m;
  }
  if (!r.ok()) return Corrupt(codec, "truncated");
  if (!r.AtCleanEnd()) return Corrupt(codec, "trailing bytes");
  if (!rans.AtCleanEnd()) return Corrupt(codec, "rANS stream does not end in its initial state");
  return Status::Ok();
}

}  // namespace wattline::historian::codec
