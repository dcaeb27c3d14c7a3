// BitWriter and BitReader: the MSB-first bit streams that the column codecs write into and read
// from. A stream is a whole number of bytes; the writer pads the last byte with zero bits.
// The reader never reads past its input: a read that would fails, and the failure sticks.
// Thread-safety: one object per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace wattline::historian::codec {

// Appends bits to a std::string, most significant bit first.
class BitWriter {
 public:
  // REQUIRES: `out` outlives the writer. Bits are appended after what `out` already holds.
  explicit BitWriter(std::string* out) : out_(out) {}

  // Writes the low `nbits` bits of `v`. REQUIRES: 0 <= nbits <= 64.
  void Write(uint64_t v, int nbits) {
    if (nbits > 32) {
      WriteSmall(v >> 32, nbits - 32);
      nbits = 32;
    }
    WriteSmall(v, nbits);
  }
  void WriteBit(bool bit) { WriteSmall(bit ? 1 : 0, 1); }

  // Pads the last byte with zero bits. Call once, after the last Write.
  void Finish();

  // Bits written so far, padding excluded.
  uint64_t bit_count() const { return bits_; }

 private:
  void WriteSmall(uint64_t v, int nbits);

  std::string* out_;
  uint64_t acc_ = 0;  // the `fill_` pending bits, right-aligned; fill_ < 8 between calls
  int fill_ = 0;
  uint64_t bits_ = 0;
};

// Reads bits from the front of `in`, most significant bit first.
class BitReader {
 public:
  // REQUIRES: the bytes behind `in` outlive the reader.
  explicit BitReader(std::string_view in) : in_(in) {}

  // Reads `nbits` bits into `*v`. Returns false (and from then on always false) when the input
  // ends first. REQUIRES: 0 <= nbits <= 64.
  bool Read(int nbits, uint64_t* v) {
    if (nbits > 32) {
      uint64_t hi = 0;
      uint64_t lo = 0;
      if (!ReadSmall(nbits - 32, &hi) || !ReadSmall(32, &lo)) return false;
      *v = (hi << 32) | lo;
      return true;
    }
    return ReadSmall(nbits, v);
  }
  bool ReadBit(bool* bit) {
    uint64_t v = 0;
    if (!ReadSmall(1, &v)) return false;
    *bit = v != 0;
    return true;
  }
  // Counts 1 bits up to the first 0 bit (consumed) or until `limit` ones were read (then no 0
  // bit is consumed). Returns false when the input ends first.
  bool ReadUnary(int limit, int* ones);

  bool ok() const { return ok_; }
  // True when every byte was consumed and the unread padding bits of the last byte are zero:
  // the stream ended exactly where its writer's did.
  bool AtCleanEnd() const { return ok_ && pos_ == in_.size() && acc_ == 0; }

 private:
  bool ReadSmall(int nbits, uint64_t* v);

  std::string_view in_;
  size_t pos_ = 0;
  uint64_t acc_ = 0;  // `fill_` loaded but unread bits, right-aligned; fill_ < 8 between calls
  int fill_ = 0;
  bool ok_ = true;
};

}  // namespace wattline::historian::codec
