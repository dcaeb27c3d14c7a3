#include "historian/codec/block.h"

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cfloat>
#include <cmath>

#include "historian/codec/float_codec.h"
#include "historian/codec/int_codec.h"
#include "historian/codec/timestamp_codec.h"
#include "wire/coding.h"
#include "wire/crc32c.h"

namespace wattline::historian::codec {
namespace {

constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

constexpr std::array<ValueCodec, 7> kFloatCandidates = {
    ValueCodec::kRaw, ValueCodec::kGorilla,    ValueCodec::kChimp,      ValueCodec::kChimp128,
    ValueCodec::kAlp, ValueCodec::kOrderedInt, ValueCodec::kOrderedRans};
constexpr std::array<ValueCodec, 5> kIntegerCandidates = {ValueCodec::kRaw, ValueCodec::kGorilla,
                                                          ValueCodec::kChimp, ValueCodec::kChimp128,
                                                          ValueCodec::kIntDelta};

int Width(ValueKind kind) { return kind == ValueKind::kFloat32 ? 32 : 64; }

uint64_t ToWord(double v, int width) {
  return width == 32 ? std::bit_cast<uint32_t>(static_cast<float>(v)) : std::bit_cast<uint64_t>(v);
}
double FromWord(uint64_t w, int width) {
  return width == 32 ? static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(w)))
                     : std::bit_cast<double>(w);
}

bool IsExactInteger(double v) {
  return std::fabs(v) <= kMaxExactInteger && std::trunc(v) == v && !(v == 0 && std::signbit(v));
}
bool IsExactFloat32(double v) {
  // A finite double beyond float's range must not be converted at all.
  if (std::isfinite(v) && !(std::fabs(v) <= static_cast<double>(FLT_MAX))) return false;
  return std::bit_cast<uint64_t>(static_cast<double>(static_cast<float>(v))) ==
         std::bit_cast<uint64_t>(v);
}

// The index of the first value that does not fit `kind`, or values.size().
size_t FirstMisfit(std::span<const double> values, ValueKind kind) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (kind == ValueKind::kFloat32 && !IsExactFloat32(values[i])) return i;
    if (kind == ValueKind::kInteger && !IsExactInteger(values[i])) return i;
  }
  return values.size();
}

void EncodeValues(std::span<const double> values, ValueKind kind, ValueCodec codec,
                  std::string* out) {
  const int width = Width(kind);
  if (codec == ValueCodec::kAlp) {
    EncodeAlp(values, kind == ValueKind::kFloat32, out);
    return;
  }
  if (codec == ValueCodec::kIntDelta) {
    std::vector<int64_t> ints(values.size());
    for (size_t i = 0; i < values.size(); ++i) ints[i] = static_cast<int64_t>(values[i]);
    EncodeIntColumn(ints, out);
    return;
  }
  std::vector<uint64_t> words(values.size());
  for (size_t i = 0; i < values.size(); ++i) words[i] = ToWord(values[i], width);
  switch (codec) {
    case ValueCodec::kRaw:
      EncodeRawWords(words, width, out);
      break;
    case ValueCodec::kGorilla:
      EncodeGorilla(words, width, out);
      break;
    case ValueCodec::kChimp:
      EncodeChimp(words, width, out);
      break;
    case ValueCodec::kChimp128:
      EncodeChimp128(words, width, out);
      break;
    case ValueCodec::kOrderedInt:
      EncodeOrderedInt(words, width, out);
      break;
    case ValueCodec::kOrderedRans:
      EncodeOrderedRans(words, width, out);
      break;
    case ValueCodec::kAlp:
    case ValueCodec::kIntDelta:
      break;
  }
}

Status DecodeValues(std::string_view in, size_t n, ValueKind kind, ValueCodec codec,
                    std::vector<double>* out) {
  const int width = Width(kind);
  if (codec == ValueCodec::kAlp) return DecodeAlp(in, n, kind == ValueKind::kFloat32, out);
  if (codec == ValueCodec::kIntDelta) {
    std::vector<int64_t> ints;
    if (Status s = DecodeIntColumn(in, n, &ints); !s.ok()) return s;
    out->clear();
    out->reserve(n);
    for (int64_t v : ints) {
      if (v > (int64_t{1} << 53) || v < -(int64_t{1} << 53)) {
        return DataLoss("block: integer value outside +-2^53");
      }
      out->push_back(static_cast<double>(v));
    }
    return Status::Ok();
  }
  std::vector<uint64_t> words;
  Status s;
  switch (codec) {
    case ValueCodec::kRaw:
      s = DecodeRawWords(in, n, width, &words);
      break;
    case ValueCodec::kGorilla:
      s = DecodeGorilla(in, n, width, &words);
      break;
    case ValueCodec::kChimp:
      s = DecodeChimp(in, n, width, &words);
      break;
    case ValueCodec::kChimp128:
      s = DecodeChimp128(in, n, width, &words);
      break;
    case ValueCodec::kOrderedInt:
      s = DecodeOrderedInt(in, n, width, &words);
      break;
    case ValueCodec::kOrderedRans:
      s = DecodeOrderedRans(in, n, width, &words);
      break;
    case ValueCodec::kAlp:
    case ValueCodec::kIntDelta:
      break;
  }
  if (!s.ok()) return s;
  out->clear();
  out->reserve(n);
  for (uint64_t w : words) out->push_back(FromWord(w, width));
  return Status::Ok();
}

Status Damaged(std::string_view what) { return DataLoss("block: " + std::string(what)); }

bool GetLengthPrefixed(std::string_view* in, std::string_view* field) {
  uint64_t len = 0;
  if (wire::GetVarint64(in, &len) != wire::VarintError::kOk || len > in->size()) return false;
  *field = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

}  // namespace

std::string_view ValueCodecName(ValueCodec codec) {
  switch (codec) {
    case ValueCodec::kRaw:
      return "raw";
    case ValueCodec::kGorilla:
      return "gorilla";
    case ValueCodec::kChimp:
      return "chimp";
    case ValueCodec::kChimp128:
      return "chimp128";
    case ValueCodec::kAlp:
      return "alp";
    case ValueCodec::kIntDelta:
      return "int-delta";
    case ValueCodec::kOrderedInt:
      return "ordered-int";
    case ValueCodec::kOrderedRans:
      return "ordered-rans";
  }
  return "unknown";
}

std::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kFloat64:
      return "float64";
    case ValueKind::kFloat32:
      return "float32";
    case ValueKind::kInteger:
      return "integer";
  }
  return "unknown";
}

std::optional<ValueCodec> ParseValueCodec(std::string_view name) {
  for (uint8_t c = 0; c <= kMaxValueCodec; ++c) {
    if (ValueCodecName(static_cast<ValueCodec>(c)) == name) return static_cast<ValueCodec>(c);
  }
  return std::nullopt;
}

std::span<const ValueCodec> CandidateCodecs(ValueKind kind) {
  if (kind == ValueKind::kInteger) return kIntegerCandidates;
  return kFloatCandidates;
}

Result<std::string> EncodeBlock(std::span<const int64_t> ts_ms, std::span<const double> values,
                                ValueKind kind, std::optional<ValueCodec> codec,
                                BlockStats* stats) {
  const size_t n = ts_ms.size();
  if (values.size() != n) {
    return Fail(
        InvalidArgument(fmt::format("block: {} timestamps but {} values", n, values.size())));
  }
  if (n > kMaxBlockSamples) {
    return Fail(InvalidArgument(
        fmt::format("block: {} samples, more than the limit of {}", n, kMaxBlockSamples)));
  }
  if (static_cast<uint8_t>(kind) > static_cast<uint8_t>(ValueKind::kInteger)) {
    return Fail(InvalidArgument("block: unknown value kind"));
  }
  if (codec && static_cast<uint8_t>(*codec) > kMaxValueCodec) {
    return Fail(InvalidArgument("block: unknown value codec"));
  }
  if (codec == ValueCodec::kIntDelta && kind != ValueKind::kInteger) {
    return Fail(InvalidArgument("block: the int-delta codec needs the integer value kind"));
  }
  if (size_t i = FirstMisfit(values, kind); i < n) {
    return Fail(InvalidArgument(fmt::format(
        "block: value {} at index {} is not {}", values[i], i,
        kind == ValueKind::kFloat32 ? "an exact float32" : "an integer within +-2^53 (nor -0.0)")));
  }

  std::string ts_column;
  EncodeTimestamps(ts_ms, &ts_column);

  std::string value_column;
  ValueCodec chosen = codec.value_or(ValueCodec::kRaw);
  if (codec) {
    EncodeValues(values, kind, *codec, &value_column);
  } else {
    bool first = true;
    for (ValueCodec c : CandidateCodecs(kind)) {
      std::string candidate;
      EncodeValues(values, kind, c, &candidate);
      if (first || candidate.size() < value_column.size()) {
        value_column = std::move(candidate);
        chosen = c;
        first = false;
      }
    }
  }

  std::string out;
  out.reserve(ts_column.size() + value_column.size() + 32);
  out.push_back(static_cast<char>(kBlockVersion));
  out.push_back(static_cast<char>(kind));
  out.push_back(static_cast<char>(chosen));
  wire::PutVarint64(&out, n);
  wire::PutLengthPrefixed(&out, ts_column);
  wire::PutLengthPrefixed(&out, value_column);
  wire::PutFixed32(&out, wire::Crc32c(out));
  if (stats) {
    *stats = {chosen, ts_column.size(), value_column.size(), out.size()};
  }
  return out;
}

Result<DecodedBlock> DecodeBlock(std::string_view bytes) {
  if (bytes.empty()) return Fail(Damaged("empty"));
  if (static_cast<uint8_t>(bytes[0]) != kBlockVersion) {
    return Fail(Damaged(fmt::format("unknown version {}", static_cast<uint8_t>(bytes[0]))));
  }
  // version, kind, codec, count, two empty columns' lengths, checksum.
  if (bytes.size() < 6 + kBlockChecksumBytes) return Fail(Damaged("too short"));
  const size_t body_size = bytes.size() - kBlockChecksumBytes;
  std::string_view in = bytes.substr(0, body_size);
  if (wire::Crc32c(in) != wire::DecodeFixed32(bytes.data() + body_size)) {
    return Fail(Damaged("checksum mismatch"));
  }
  DecodedBlock block;
  const auto kind = static_cast<uint8_t>(in[1]);
  const auto codec = static_cast<uint8_t>(in[2]);
  in.remove_prefix(3);
  if (kind > static_cast<uint8_t>(ValueKind::kInteger)) {
    return Fail(Damaged(fmt::format("unknown value kind {}", kind)));
  }
  if (codec > kMaxValueCodec) return Fail(Damaged(fmt::format("unknown value codec {}", codec)));
  block.kind = static_cast<ValueKind>(kind);
  block.codec = static_cast<ValueCodec>(codec);
  if (block.codec == ValueCodec::kIntDelta && block.kind != ValueKind::kInteger) {
    return Fail(Damaged("int-delta codec on a non-integer kind"));
  }
  uint64_t n = 0;
  if (wire::GetVarint64(&in, &n) != wire::VarintError::kOk)
    return Fail(Damaged("bad sample count"));
  if (n > kMaxBlockSamples) {
    return Fail(Damaged(fmt::format("{} samples, more than the limit of {}", n, kMaxBlockSamples)));
  }
  std::string_view ts_column;
  std::string_view value_column;
  if (!GetLengthPrefixed(&in, &ts_column)) return Fail(Damaged("truncated timestamp column"));
  if (!GetLengthPrefixed(&in, &value_column)) return Fail(Damaged("truncated value column"));
  if (!in.empty()) return Fail(Damaged("trailing bytes before the checksum"));
  if (Status s = DecodeTimestamps(ts_column, n, &block.ts_ms); !s.ok()) return Fail(s);
  if (Status s = DecodeValues(value_column, n, block.kind, block.codec, &block.values); !s.ok()) {
    return Fail(s);
  }
  if (size_t i = FirstMisfit(block.values, block.kind); i < n) {
    return Fail(Damaged(
        fmt::format("value at index {} does not fit the kind {}", i, ValueKindName(block.kind))));
  }
  return block;
}

}  // namespace wattline::historian::codec
