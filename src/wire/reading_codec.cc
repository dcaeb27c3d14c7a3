#include "wire/reading_codec.h"

#include <bit>
#include <cassert>
#include <cstring>

#include "wire/batch_format.h"
#include "wire/coding.h"

namespace wattline::wire {

std::string EncodeReading(const MeterReading& reading) {
  assert(reading.values.size() <= kMaxReadingValues);
  std::string out;
  out.reserve(32 + reading.device.size() + reading.model.size() + reading.values.size() * 32);
  out.push_back(static_cast<char>(kReadingVersion));
  PutLengthPrefixed(&out, reading.device);
  PutLengthPrefixed(&out, reading.model);
  // Zigzag: timestamps are positive in practice, but a meter with a dead RTC battery can report
  // 1970 minus an offset; zigzag keeps such values short instead of 10 bytes.
  PutVarint64(&out, ZigZagEncode(reading.ts_ms));
  PutVarint64(&out, reading.values.size());
  for (const auto& v : reading.values) {
    PutLengthPrefixed(&out, v.signal);
    PutLengthPrefixed(&out, v.unit);
    out.push_back(static_cast<char>(v.kind));
    out.push_back(static_cast<char>(v.quality));
    PutFixed64(&out, std::bit_cast<uint64_t>(v.value));
  }
  return out;
}

Result<MeterReading> DecodeReading(std::string_view bytes) {
  Decoder d(bytes, "reading");
  MeterReading r;
  uint8_t version = 0;
  if (d.ReadU8(&version, "version") && version != kReadingVersion) {
    d.Error("unknown version " + std::to_string(version));
  }
  std::string_view device, model;
  d.ReadLengthPrefixed(&device, kMaxReadingStringBytes, "device");
  d.ReadLengthPrefixed(&model, kMaxReadingStringBytes, "model");
  uint64_t ts = 0, count = 0;
  d.ReadVarint(&ts, "ts_ms");
  if (d.ReadVarint(&count, "value_count")) {
    // Check the count against what is left before reserving: a 5-byte input must not make us
    // allocate gigabytes.
    if (count > kMaxReadingValues) {
      d.Error("value_count " + std::to_string(count) + " over the limit of " +
              std::to_string(kMaxReadingValues));
    } else if (count > d.remaining().size() / kMinReadingValueBytes) {
      d.Error("truncated: value_count " + std::to_string(count) + " does not fit in the " +
              std::to_string(d.remaining().size()) + " bytes left");
    }
  }
  if (!d.ok()) return Fail(d.status());
  r.device = device;
  r.model = model;
  r.ts_ms = ZigZagDecode(ts);
  r.values.reserve(count);
  for (uint64_t i = 0; i < count && d.ok(); ++i) {
    std::string_view signal, unit, bits;
    uint8_t kind = 0, quality = 0;
    d.ReadLengthPrefixed(&signal, kMaxReadingStringBytes, "signal");
    d.ReadLengthPrefixed(&unit, kMaxReadingStringBytes, "unit");
    if (d.ReadU8(&kind, "kind") && kind > static_cast<uint8_t>(SignalKind::kCounter)) {
      d.Error("unknown signal kind " + std::to_string(kind));
    }
    if (d.ReadU8(&quality, "quality") && quality > static_cast<uint8_t>(Quality::kManual)) {
      d.Error("unknown quality " + std::to_string(quality));
    }
    d.ReadBytes(8, &bits, "value");
    if (!d.ok()) break;
    SignalValue v;
    v.signal = signal;
    v.unit = unit;
    v.kind = static_cast<SignalKind>(kind);
    v.quality = static_cast<Quality>(quality);
    v.value = std::bit_cast<double>(DecodeFixed64(bits.data()));
    r.values.push_back(std::move(v));
  }
  if (d.ok() && !d.remaining().empty()) {
    d.Error(std::to_string(d.remaining().size()) + " trailing bytes");
  }
  if (!d.ok()) return Fail(d.status());
  return r;
}

}  // namespace wattline::wire
