// libFuzzer target for the datagrams the discovery responder and discoverer take from the LAN:
// DecodeDatagram must refuse any input with an error, never crash, hang or read out of bounds;
// whatever it accepts must encode again and decode to the same message.
// Build and run: see fuzz/CMakeLists.txt. Seed corpus: testdata/discovery/.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "discovery/protocol.h"
#include "wire/crc32c.h"

namespace {

using namespace wattline::discovery;

void CheckOne(std::string_view in) {
  auto m = DecodeDatagram(in);
  if (!m) return;
  if (const auto* q = std::get_if<Query>(&*m)) {
    auto again = DecodeDatagram(EncodeQuery(*q));
    if (!again || !std::holds_alternative<Query>(*again) || std::get<Query>(*again) != *q) {
      std::abort();
    }
    return;
  }
  const auto& a = std::get<Answer>(*m);
  // Unit id lists of up to 255 entries always fit the field; the datagram size limit holds
  // because unknown fields skipped on decode only make the re-encoding shorter.
  auto bytes = EncodeAnswer(a);
  if (!bytes) std::abort();
  auto again = DecodeDatagram(*bytes);
  if (!again || !std::holds_alternative<Answer>(*again) || std::get<Answer>(*again) != a) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckOne(in);
  // Random bytes almost never carry a valid CRC-32C: decode them once more with the checksum
  // put right, so that the fuzzer reaches the field parsers.
  if (size >= kHeaderSize + kTrailerSize) {
    std::string fixed(in);
    uint32_t crc = wattline::wire::Crc32c(std::string_view(fixed).substr(0, size - kTrailerSize));
    for (int i = 0; i < 4; ++i) fixed[size - 4 + i] = static_cast<char>(crc >> (24 - 8 * i));
    CheckOne(fixed);
  }
  return 0;
}
