#include "historian/codec/float_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include "historian/codec/bit_stream.h"
#include "historian/codec/block_format.h"
#include "historian/codec/int_codec.h"
#include "historian/codec/ordered.h"
#include "historian/codec/rans_int_codec.h"
#include "wire/coding.h"

namespace wattline::historian::codec {
namespace {

// Leading zeros of a nonzero `x` within `width` bits.
inline int Leading(uint64_t x, int width) { return std::countl_zero(x) - (64 - width); }
inline int Trailing(uint64_t x) { return std::countr_zero(x); }

Status Corrupt(std::string_view codec, std::string_view what) {
  return DataLoss("block: value column (" + std::string(codec) + "): " + std::string(what));
}

Status Finish(const BitReader& r, std::string_view codec) {
  if (!r.ok()) return Corrupt(codec, "truncated");
  if (!r.AtCleanEnd()) return Corrupt(codec, "trailing bytes");
  return Status::Ok();
}

// ---- Chimp helpers ----
struct ChimpParams {
  const int* leading;  // 8 rounded leading-zero counts
  int threshold;       // trailing zeros above this take the "center bits" case
  int center_bits;     // width of the center-bit count field
};
ChimpParams Chimp(int width) {
  if (width == 64) return {kChimpLeading64, kChimpTrailingThreshold64, 6};
  return {kChimpLeading32, kChimpTrailingThreshold32, 5};
}
// Index of the largest rounded count <= lead.
int ChimpRound(const ChimpParams& p, int lead) {
  int j = 7;
  while (p.leading[j] > lead) --j;
  return j;
}

// Encodes a nonzero `x` as Chimp's "01" case body: rounded leading zeros and the center bits.
void PutCenter(BitWriter* w, const ChimpParams& p, uint64_t x, int width) {
  const int j = ChimpRound(p, Leading(x, width));
  const int trail = Trailing(x);
  const int center = width - p.leading[j] - trail;
  w->Write(static_cast<uint64_t>(j), 3);
  w->Write(static_cast<uint64_t>(center), p.center_bits);
  w->Write(x >> trail, center);
}
bool GetCenter(BitReader* r, const ChimpParams& p, int width, uint64_t* x) {
  uint64_t j = 0;
  uint64_t center = 0;
  if (!r->Read(3, &j) || !r->Read(p.center_bits, &center)) return false;
  const int lead = p.leading[j];
  if (center == 0 || lead + static_cast<int>(center) > width) return false;
  uint64_t bits = 0;
  if (!r->Read(static_cast<int>(center), &bits)) return false;
  *x = bits << (width - lead - static_cast<int>(center));
  return true;
}

// The "10"/"11" cases against the previous value. `stored_lead` is the last rounded leading
// count written, or -1 when the next value must state its own.
void PutXorPrev(BitWriter* w, const ChimpParams& p, uint64_t x, int width, int* stored_lead) {
  const int lead = p.leading[ChimpRound(p, Leading(x, width))];
  if (lead == *stored_lead) {
    w->Write(0b10, 2);
  } else {
    w->Write(0b11, 2);
    w->Write(static_cast<uint64_t>(ChimpRound(p, lead)), 3);
    *stored_lead = lead;
  }
  w->Write(x, width - lead);
}
bool GetXorPrev(BitReader* r, const ChimpParams& p, uint64_t flag, int width, int* stored_lead,
                uint64_t* x) {
  if (flag == 0b11) {
    uint64_t j = 0;
    if (!r->Read(3, &j)) return false;
    *stored_lead = p.leading[j];
  } else if (*stored_lead < 0) {
    return false;
  }
  return r->Read(width - *stored_lead, x);
}

// ---- ALP helpers ----
constexpr std::array<double, 19> kPow10 = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                           1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

inline double AlpDecode(int64_t n, int e, bool float32) {
  const double d = static_cast<double>(n) / kPow10[static_cast<size_t>(e)];
  return float32 ? static_cast<double>(static_cast<float>(d)) : d;
}

// The integer for `v` at exponent e, if it decodes back to exactly v.
bool AlpEncode(double v, int e, bool float32, int64_t* n) {
  const double y = v * kPow10[static_cast<size_t>(e)];
  if (!(std::fabs(y) < 4.0e18)) return false;  // also refuses NaN and infinities
  const auto k = static_cast<int64_t>(std::nearbyint(y));
  if (std::bit_cast<uint64_t>(AlpDecode(k, e, float32)) != std::bit_cast<uint64_t>(v)) return false;
  *n = k;
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Raw

void EncodeRawWords(std::span<const uint64_t> words, int width, std::string* out) {
  for (uint64_t w : words) {
    if (width == 32) {
      wire::PutFixed32(out, static_cast<uint32_t>(w));
    } else {
      wire::PutFixed64(out, w);
    }
  }
}

Status DecodeRawWords(std::string_view in, size_t n, int width, std::vector<uint64_t>* out) {
  const size_t bytes = static_cast<size_t>(width) / 8;
  if (in.size() != n * bytes) return Corrupt("raw", "size does not match the sample count");
  out->clear();
  out->reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const char* p = in.data() + i * bytes;
    out->push_back(width == 32 ? wire::DecodeFixed32(p) : wire::DecodeFixed64(p));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Gorilla. Leading zeros in 5 bits (capped at 31), the meaningful-bit count in 6 bits (64 bits)
// or 5 bits (32 bits), where 0 stands for the full width.

void EncodeGorilla(std::span<const uint64_t> words, int width, std::string* out) {
  if (words.empty()) return;
  const int len_bits = width == 64 ? 6 : 5;
  BitWriter w(out);
  w.Write(words[0], width);
  int plead = -1;
  int ptrail = 0;
  for (size_t i = 1; i < words.size(); ++i) {
    const uint64_t x = words[i] ^ words[i - 1];
    if (x == 0) {
      w.WriteBit(false);
      continue;
    }
    w.WriteBit(true);
    const int lead = std::min(Leading(x, width), 31);
    const int trail = Trailing(x);
    if (plead >= 0 && lead >= plead && trail >= ptrail) {
      w.WriteBit(false);
      w.Write(x >> ptrail, width - plead - ptrail);
      continue;
    }
    const int sig = width - lead - trail;
    w.WriteBit(true);
    w.Write(static_cast<uint64_t>(lead), 5);
    w.Write(static_cast<uint64_t>(sig == width ? 0 : sig), len_bits);
    w.Write(x >> trail, sig);
    plead = lead;
    ptrail = trail;
  }
  w.Finish();
}

Status DecodeGorilla(std::string_view in, size_t n, int width, std::vector<uint64_t>* out) {
  out->clear();
  if (n == 0) return in.empty() ? Status::Ok() : Corrupt("gorilla", "trailing bytes");
  out->reserve(n);
  const int len_bits = width == 64 ? 6 : 5;
  BitReader r(in);
  uint64_t v = 0;
  if (!r.Read(width, &v)) return Corrupt("gorilla", "truncated");
  out->push_back(v);
  int plead = -1;
  int ptrail = 0;
  while (out->size() < n) {
    bool changed = false;
    if (!r.ReadBit(&changed)) break;
    if (changed) {
      bool new_window = false;
      uint64_t bits = 0;
      if (!r.ReadBit(&new_window)) break;
      if (new_window) {
        uint64_t lead = 0;
        uint64_t sig = 0;
        if (!r.Read(5, &lead) || !r.Read(len_bits, &sig)) break;
        if (sig == 0) sig = static_cast<uint64_t>(width);
        if (lead + sig > static_cast<uint64_t>(width)) return Corrupt("gorilla", "bad window");
        plead = static_cast<int>(lead);
        ptrail = width - static_cast<int>(lead + sig);
      } else if (plead < 0) {
        return Corrupt("gorilla", "window reused before one was set");
      }
      if (!r.Read(width - plead - ptrail, &bits)) break;
      v ^= bits << ptrail;
    }
    out->push_back(v);
  }
  return Finish(r, "gorilla");
}

// ---------------------------------------------------------------------------------------------
// Chimp. Flags: 00 same value; 01 XOR with many trailing zeros: rounded leading count (3 bits),
// center-bit count, center bits; 10 XOR with the stored leading count: the bits after it;
// 11 new rounded leading count (3 bits), then the bits after it.

void EncodeChimp(std::span<const uint64_t> words, int width, std::string* out) {
  if (words.empty()) return;
  const ChimpParams p = Chimp(width);
  BitWriter w(out);
  w.Write(words[0], width);
  int stored_lead = -1;
  for (size_t i = 1; i < words.size(); ++i) {
    const uint64_t x = words[i] ^ words[i - 1];
    if (x == 0) {
      w.Write(0b00, 2);
      stored_lead = -1;
    } else if (Trailing(x) > p.threshold) {
      w.Write(0b01, 2);
      PutCenter(&w, p, x, width);
      stored_lead = -1;
    } else {
      PutXorPrev(&w, p, x, width, &stored_lead);
    }
  }
  w.Finish();
}

Status DecodeChimp(std::string_view in, size_t n, int width, std::vector<uint64_t>* out) {
  out->clear();
  if (n == 0) return in.empty() ? Status::Ok() : Corrupt("chimp", "trailing bytes");
  out->reserve(n);
  const ChimpParams p = Chimp(width);
  BitReader r(in);
  uint64_t v = 0;
  if (!r.Read(width, &v)) return Corrupt("chimp", "truncated");
  out->push_back(v);
  int stored_lead = -1;
  while (out->size() < n) {
    uint64_t flag = 0;
    uint64_t x = 0;
    if (!r.Read(2, &flag)) break;
    if (flag == 0b01) {
      if (!GetCenter(&r, p, width, &x)) return Corrupt("chimp", "bad or truncated center bits");
      stored_lead = -1;
    } else if (flag != 0b00) {
      if (!GetXorPrev(&r, p, flag, width, &stored_lead, &x)) {
        return Corrupt("chimp", "bad or truncated XOR");
      }
    } else {
      stored_lead = -1;
    }
    v ^= x;
    out->push_back(v);
  }
  return Finish(r, "chimp");
}

// ---------------------------------------------------------------------------------------------
// Chimp128. Flags 00 and 01 carry a 7-bit reference: the ring slot (position mod 128) of one of
// the previous 128 values; 10 and 11 always refer to the previous value.

void EncodeChimp128(std::span<const uint64_t> words, int width, std::string* out) {
  if (words.empty()) return;
  const ChimpParams p = Chimp(width);
  // Last position of each value of the low bits: a hash of the part that must match for a
  // long run of trailing zeros in the XOR.
  const int key_bits = width == 64 ? 14 : 12;
  std::vector<int64_t> last(size_t{1} << key_bits, -1);
  auto key = [&](uint64_t v) { return static_cast<size_t>(v & ((uint64_t{1} << key_bits) - 1)); };
  BitWriter w(out);
  w.Write(words[0], width);
  last[key(words[0])] = 0;
  int stored_lead = -1;
  for (size_t i = 1; i < words.size(); ++i) {
    const uint64_t v = words[i];
    const int64_t cand = last[key(v)];
    size_t ref = i - 1;
    if (cand >= 0 && static_cast<int64_t>(i) - cand <= kChimp128Window) {
      const uint64_t cx = v ^ words[static_cast<size_t>(cand)];
      if (cx == 0 || Trailing(cx) > p.threshold) ref = static_cast<size_t>(cand);
    }
    const uint64_t x = v ^ words[ref];
    const uint64_t slot = ref % kChimp128Window;
    if (x == 0) {
      w.Write(0b00, 2);
      w.Write(slot, 7);
      stored_lead = -1;
    } else if (Trailing(x) > p.threshold) {
      w.Write(0b01, 2);
      w.Write(slot, 7);
      PutCenter(&w, p, x, width);
      stored_lead = -1;
    } else {
      // ref is the previous value here: a candidate is only taken with many trailing zeros.
      PutXorPrev(&w, p, v ^ words[i - 1], width, &stored_lead);
    }
    last[key(v)] = static_cast<int64_t>(i);
  }
  w.Finish();
}

Status DecodeChimp128(std::string_view in, size_t n, int width, std::vector<uint64_t>* out) {
  out->clear();
  if (n == 0) return in.empty() ? Status::Ok() : Corrupt("chimp128", "trailing bytes");
  out->reserve(n);
  const ChimpParams p = Chimp(width);
  BitReader r(in);
  uint64_t v = 0;
  if (!r.Read(width, &v)) return Corrupt("chimp128", "truncated");
  out->push_back(v);
  int stored_lead = -1;
  while (out->size() < n) {
    const size_t i = out->size();
    uint64_t flag = 0;
    uint64_t x = 0;
    uint64_t ref_value = (*out)[i - 1];
    if (!r.Read(2, &flag)) break;
    if (flag == 0b00 || flag == 0b01) {
      uint64_t slot = 0;
      if (!r.Read(7, &slot)) break;
      // The latest position before i in that slot.
      const size_t back = (i - 1 - slot) % kChimp128Window;
      if (back > i - 1) return Corrupt("chimp128", "reference before the first value");
      ref_value = (*out)[i - 1 - back];
      if (flag == 0b01 && !GetCenter(&r, p, width, &x)) {
        return Corrupt("chimp128", "bad or truncated center bits");
      }
      stored_lead = -1;
    } else if (!GetXorPrev(&r, p, flag, width, &stored_lead, &x)) {
      return Corrupt("chimp128", "bad or truncated XOR");
    }
    out->push_back(ref_value ^ x);
  }
  return Finish(r, "chimp128");
}

// ---------------------------------------------------------------------------------------------
// Ordered integers

void EncodeOrderedInt(std::span<const uint64_t> words, int width, std::string* out) {
  std::vector<uint64_t> u(words.size());
  for (size_t i = 0; i < words.size(); ++i) u[i] = ToOrdered(words[i], width);
  BitWriter w(out);
  EncodeIntFrames(u, &w);
  w.Finish();
}

Status DecodeOrderedInt(std::string_view in, size_t n, int width, std::vector<uint64_t>* out) {
  out->clear();
  out->reserve(n);
  BitReader r(in);
  if (!DecodeIntFrames(&r, n, out)) return Corrupt("ordered-int", "truncated or bad frame");
  if (Status s = Finish(r, "ordered-int"); !s.ok()) return s;
  for (auto& u : *out) {
    if (u > WidthMask(width)) return Corrupt("ordered-int", "value wider than the column");
    u = FromOrdered(u, width);
  }
  return Status::Ok();
}

void EncodeOrderedRans(std::span<const uint64_t> words, int width, std::string* out) {
  std::vector<uint64_t> u(words.size());
  for (size_t i = 0; i < words.size(); ++i) u[i] = ToOrdered(words[i], width);
  EncodeRansIntColumn(u, out);
}

Status DecodeOrderedRans(std::string_view in, size_t n, int width, std::vector<uint64_t>* out) {
  if (Status s = DecodeRansIntColumn(in, n, "ordered-rans", out); !s.ok()) return s;
  for (auto& u : *out) {
    if (u > WidthMask(width)) return Corrupt("ordered-rans", "value wider than the column");
    u = FromOrdered(u, width);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// ALP. Layout: exponent (u8), exception count (varint), exception positions (varint gaps),
// exception bit patterns (fixed32/fixed64), then integer frames for all n positions.

void EncodeAlp(std::span<const double> values, bool float32, std::string* out) {
  const int max_e = float32 ? kAlpMaxExponent32 : kAlpMaxExponent64;
  const size_t n = values.size();
  if (n == 0) return;
  // The smallest exponent at which each value round-trips (max_e + 1: none).
  std::array<size_t, kPow10.size() + 1> first_ok{};
  int64_t scratch = 0;
  for (double v : values) {
    int e = 0;
    while (e <= max_e && !AlpEncode(v, e, float32, &scratch)) ++e;
    ++first_ok[static_cast<size_t>(e)];
  }
  // Each decimal digit costs about log2(10) bits per value; an exception costs its raw bits
  // plus its position. Values that round-trip at a smaller exponent almost always do at a
  // larger one too.
  const double exception_bits = (float32 ? 32 : 64) + 12;
  int best_e = 0;
  double best_cost = 1e300;
  size_t ok_so_far = 0;
  for (int e = 0; e <= max_e; ++e) {
    ok_so_far += first_ok[static_cast<size_t>(e)];
    const double cost = static_cast<double>(n - ok_so_far) * exception_bits +
                        static_cast<double>(ok_so_far) * 3.33 * e;
    if (cost < best_cost) {
      best_cost = cost;
      best_e = e;
    }
  }
  std::vector<uint64_t> ints(n);
  std::vector<size_t> exceptions;
  uint64_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t k = 0;
    if (AlpEncode(values[i], best_e, float32, &k)) {
      last = static_cast<uint64_t>(k);
    } else {
      exceptions.push_back(i);  // keeps the previous integer: no jump for the frames
    }
    ints[i] = last;
  }
  out->push_back(static_cast<char>(best_e));
  wire::PutVarint64(out, exceptions.size());
  size_t prev = 0;
  for (size_t pos : exceptions) {
    wire::PutVarint64(out, pos - prev);
    prev = pos;
  }
  for (size_t pos : exceptions) {
    if (float32) {
      wire::PutFixed32(out, std::bit_cast<uint32_t>(static_cast<float>(values[pos])));
    } else {
      wire::PutFixed64(out, std::bit_cast<uint64_t>(values[pos]));
    }
  }
  BitWriter w(out);
  EncodeIntFrames(ints, &w);
  w.Finish();
}

Status DecodeAlp(std::string_view in, size_t n, bool float32, std::vector<double>* out) {
  out->clear();
  if (n == 0) return in.empty() ? Status::Ok() : Corrupt("alp", "trailing bytes");
  const int max_e = float32 ? kAlpMaxExponent32 : kAlpMaxExponent64;
  if (in.empty()) return Corrupt("alp", "truncated");
  const int e = static_cast<unsigned char>(in[0]);
  in.remove_prefix(1);
  if (e > max_e) return Corrupt("alp", "exponent out of range");
  uint64_t count = 0;
  if (wire::GetVarint64(&in, &count) != wire::VarintError::kOk) return Corrupt("alp", "bad count");
  if (count > n) return Corrupt("alp", "more exceptions than samples");
  std::vector<size_t> positions;
  positions.reserve(count);
  uint64_t pos = 0;
  for (uint64_t j = 0; j < count; ++j) {
    uint64_t gap = 0;
    if (wire::GetVarint64(&in, &gap) != wire::VarintError::kOk)
      return Corrupt("alp", "bad position");
    if (gap >= n || (j > 0 && gap == 0) || pos + gap >= n) {
      return Corrupt("alp", "exception position out of order or range");
    }
    pos += gap;
    positions.push_back(pos);
  }
  const size_t raw_bytes = float32 ? 4 : 8;
  if (in.size() < count * raw_bytes) return Corrupt("alp", "truncated exceptions");
  std::string_view raw = in.substr(0, count * raw_bytes);
  in.remove_prefix(count * raw_bytes);
  std::vector<uint64_t> ints;
  ints.reserve(n);
  BitReader r(in);
  if (!DecodeIntFrames(&r, n, &ints)) return Corrupt("alp", "truncated or bad frame");
  if (Status s = Finish(r, "alp"); !s.ok()) return s;
  out->reserve(n);
  for (uint64_t k : ints) out->push_back(AlpDecode(static_cast<int64_t>(k), e, float32));
  for (size_t j = 0; j < count; ++j) {
    const char* p = raw.data() + j * raw_bytes;
    (*out)[positions[j]] = float32
                               ? static_cast<double>(std::bit_cast<float>(wire::DecodeFixed32(p)))
                               : std::bit_cast<double>(wire::DecodeFixed64(p));
  }
  return Status::Ok();
}

}  // namespace wattline::historian::codec
