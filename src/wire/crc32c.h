// CRC-32C (Castagnoli), the checksum of every Wattline wire and on-disk format.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace wattline::wire {

// CRC-32C of `data` continuing from `crc` (the CRC of the bytes before; 0 to start).
// Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

namespace internal {
// The table version that CPUs without the crc32 instruction use; tests compare the two.
uint32_t Crc32cPortableForTesting(std::string_view data, uint32_t crc = 0);
}  // namespace internal

}  // namespace wattline::wire
