// libFuzzer target for the historian's sealed blocks (src/historian/codec): DecodeBlock must
// refuse any damaged input with an error, never crash, hang or read out of bounds, and whatever it
// accepts must survive EncodeBlock/DecodeBlock with the same kind and codec bit for bit.
// An input starting with 0xFF is the rest of a block without its checksum: the target seals it
// with a correct CRC-32C, so that mutations reach the column decoders behind the checksum.
// Other inputs that do not start with the version byte drive the encoders instead: they are read
// as samples (kind byte, then 16 bytes a sample: timestamp and value bits), and every codec the
// kind accepts and the automatic choice must round-trip them.
// Build and run: see fuzz/CMakeLists.txt. Seed corpus: testdata/block/.
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "historian/codec/block.h"
#include "wire/coding.h"
#include "wire/crc32c.h"

namespace {

using namespace wattline::historian::codec;

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::bit_cast<uint64_t>(a[i]) != std::bit_cast<uint64_t>(b[i])) return false;
  }
  return true;
}

void CheckRoundTrip(const std::vector<int64_t>& ts, const std::vector<double>& values,
                    ValueKind kind, std::optional<ValueCodec> codec) {
  auto bytes = EncodeBlock(ts, values, kind, codec);
  if (!bytes) std::abort();
  auto back = DecodeBlock(*bytes);
  if (!back || back->kind != kind || (codec && back->codec != *codec) || back->ts_ms != ts ||
      !SameBits(back->values, values)) {
    std::abort();
  }
}

uint64_t Load64(const uint8_t* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string sealed;
  if (size > 0 && data[0] == 0xFF) {
    sealed.push_back(static_cast<char>(kBlockVersion));
    sealed.append(in.substr(1));
    wattline::wire::PutFixed32(&sealed, wattline::wire::Crc32c(sealed));
    in = sealed;
  }
  if (in.empty() || static_cast<uint8_t>(in[0]) == kBlockVersion) {
    auto block = DecodeBlock(in);
    if (block) {
      if (block->ts_ms.size() != block->values.size()) std::abort();
      CheckRoundTrip(block->ts_ms, block->values, block->kind, block->codec);
    }
    return 0;
  }

  const auto kind = static_cast<ValueKind>(data[1 % size] % 3);
  std::vector<int64_t> ts;
  std::vector<double> values;
  for (size_t off = 2; off + 16 <= size && ts.size() < 4096; off += 16) {
    ts.push_back(static_cast<int64_t>(Load64(data + off)));
    const uint64_t bits = Load64(data + off + 8);
    switch (kind) {
      case ValueKind::kFloat64:
        values.push_back(std::bit_cast<double>(bits));
        break;
      case ValueKind::kFloat32:
        // float -> double quiets a signalling NaN: the result is still an exact float32.
        values.push_back(static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits))));
        break;
      case ValueKind::kInteger:
        values.push_back(static_cast<double>(static_cast<int64_t>(bits % (uint64_t{1} << 54)) -
                                             (int64_t{1} << 53)));
        break;
    }
  }
  // Every codec the kind accepts, also those the automatic choice does not try for it.
  for (uint8_t c = 0; c <= kMaxValueCodec; ++c) {
    const auto codec = static_cast<ValueCodec>(c);
    if (codec == ValueCodec::kIntDelta && kind != ValueKind::kInteger) continue;
    CheckRoundTrip(ts, values, kind, codec);
  }
  CheckRoundTrip(ts, values, kind, std::nullopt);
  return 0;
}
