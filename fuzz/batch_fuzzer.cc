// libFuzzer target for the bytes the server takes from the network: DecodeBatch and
// DecodeReading must refuse any input with an error, never crash, hang or read out of bounds; and
// whatever they accept must survive an encode/decode round trip unchanged.
// Build and run: see fuzz/CMakeLists.txt. Seed corpus: testdata/batch/.
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire/batch.h"
#include "wire/reading_codec.h"

namespace {

using namespace wattline::wire;

bool SameReading(const MeterReading& a, const MeterReading& b) {
  if (a.device != b.device || a.model != b.model || a.ts_ms != b.ts_ms ||
      a.values.size() != b.values.size()) {
    return false;
  }
  for (size_t i = 0; i < a.values.size(); ++i) {
    const auto& x = a.values[i];
    const auto& y = b.values[i];
    if (x.signal != y.signal || x.unit != y.unit || x.kind != y.kind || x.quality != y.quality ||
        std::bit_cast<uint64_t>(x.value) != std::bit_cast<uint64_t>(y.value)) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  // A small cap keeps the fuzzer fast; the cap logic is the same at 64 MiB.
  if (auto batch = DecodeBatch(in, size_t{1} << 20)) {
    for (const auto& r : batch->records) (void)DecodeReading(r.reading);
    auto again = DecodeBatch(EncodeBatch(*batch), size_t{1} << 20);
    if (!again || !(*again == *batch)) std::abort();
  }

  if (auto reading = DecodeReading(in)) {
    auto again = DecodeReading(EncodeReading(*reading));
    if (!again || !SameReading(*again, *reading)) std::abort();
  }
  return 0;
}
