#include "historian/codec/timestamp_codec.h"

#include <bit>

#include "historian/codec/bit_stream.h"
#include "historian/codec/block_format.h"
#include "wire/coding.h"

namespace wattline::historian::codec {
namespace {

// Deltas are differences modulo 2^64: t[i] - t[i-1] never overflows in uint64, and adding it
// back modulo 2^64 restores t[i] exactly, even from INT64_MIN to INT64_MAX.
inline uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }

// Elias gamma code of r >= 1: floor(log2 r) zero bits, then r in binary.
void PutGamma(BitWriter* w, uint64_t r) {
  const int len = std::bit_width(r);
  w->Write(0, len - 1);
  w->Write(r, len);
}

// A nonzero delta-of-delta, zigzag-encoded, in the smallest bucket that holds it.
void PutDod(BitWriter* w, uint64_t zz) {
  for (const auto& b : kTsBuckets) {
    if (b.value_bits == 64 || zz < (uint64_t{1} << b.value_bits)) {
      w->Write(b.prefix, b.prefix_bits);
      w->Write(zz, b.value_bits);
      return;
    }
  }
}

Status Corrupt(std::string_view what) {
  return DataLoss("block: timestamp column: " + std::string(what));
}

}  // namespace

void EncodeTimestamps(std::span<const int64_t> ts, std::string* out) {
  if (ts.empty()) return;
  wire::PutVarint64(out, wire::ZigZagEncode(ts[0]));
  if (ts.size() == 1) return;
  uint64_t delta = U(ts[1]) - U(ts[0]);
  wire::PutVarint64(out, wire::ZigZagEncode(static_cast<int64_t>(delta)));
  BitWriter w(out);
  uint64_t run = 0;
  for (size_t i = 2; i < ts.size(); ++i) {
    const uint64_t d = U(ts[i]) - U(ts[i - 1]);
    const uint64_t dod = d - delta;
    delta = d;
    if (dod == 0) {
      ++run;
      continue;
    }
    if (run > 0) {
      w.WriteBit(false);
      PutGamma(&w, run);
      run = 0;
    }
    PutDod(&w, wire::ZigZagEncode(static_cast<int64_t>(dod)));
  }
  if (run > 0) {
    w.WriteBit(false);
    PutGamma(&w, run);
  }
  w.Finish();
}

Status DecodeTimestamps(std::string_view in, size_t n, std::vector<int64_t>* out) {
  out->clear();
  if (n == 0) {
    if (!in.empty()) return Corrupt("bytes in the column of an empty block");
    return Status::Ok();
  }
  if (n > kMaxBlockSamples) return Corrupt("too many samples");
  out->reserve(n);
  uint64_t v = 0;
  if (wire::GetVarint64(&in, &v) != wire::VarintError::kOk) return Corrupt("bad first timestamp");
  uint64_t t = U(wire::ZigZagDecode(v));
  out->push_back(static_cast<int64_t>(t));
  if (n == 1) {
    if (!in.empty()) return Corrupt("trailing bytes");
    return Status::Ok();
  }
  if (wire::GetVarint64(&in, &v) != wire::VarintError::kOk) return Corrupt("bad first delta");
  uint64_t delta = U(wire::ZigZagDecode(v));
  t += delta;
  out->push_back(static_cast<int64_t>(t));
  BitReader r(in);
  while (out->size() < n) {
    int ones = 0;
    if (!r.ReadUnary(kTsMaxPrefixOnes, &ones)) return Corrupt("truncated");
    if (ones == 0) {
      // A run of repeated deltas, its length in Elias gamma code.
      int zeros = 0;
      bool bit = false;
      while (true) {
        if (!r.ReadBit(&bit)) return Corrupt("truncated run length");
        if (bit) break;
        if (++zeros > kTsMaxGammaZeros) return Corrupt("run length too long");
      }
      uint64_t rest = 0;
      if (!r.Read(zeros, &rest)) return Corrupt("truncated run length");
      const uint64_t run = (uint64_t{1} << zeros) | rest;
      if (run > n - out->size()) return Corrupt("run past the sample count");
      for (uint64_t k = 0; k < run; ++k) {
        t += delta;
        out->push_back(static_cast<int64_t>(t));
      }
      continue;
    }
    const auto& b = kTsBuckets[static_cast<size_t>(ones - 1)];
    uint64_t zz = 0;
    if (!r.Read(b.value_bits, &zz)) return Corrupt("truncated delta-of-delta");
    delta += U(wire::ZigZagDecode(zz));
    t += delta;
    out->push_back(static_cast<int64_t>(t));
  }
  if (!r.AtCleanEnd()) return Corrupt("trailing bytes");
  return Status::Ok();
}

}  // namespace wattline::historian::codec
