#include "historian/codec/bit_stream.h"

namespace wattline::historian::codec {
namespace {

inline uint64_t LowMask(int nbits) {
  return nbits >= 64 ? ~uint64_t{0} : (uint64_t{1} << nbits) - 1;
}

}  // namespace

void BitWriter::WriteSmall(uint64_t v, int nbits) {
  if (nbits == 0) return;
  // fill_ < 8 and nbits <= 32, so the accumulator never holds more than 39 bits.
  acc_ = (acc_ << nbits) | (v & LowMask(nbits));
  fill_ += nbits;
  bits_ += static_cast<uint64_t>(nbits);
  while (fill_ >= 8) {
    fill_ -= 8;
    out_->push_back(static_cast<char>(acc_ >> fill_));
  }
  acc_ &= LowMask(fill_);
}

void BitWriter::Finish() {
  if (fill_ > 0) {
    out_->push_back(static_cast<char>(acc_ << (8 - fill_)));
    acc_ = 0;
    fill_ = 0;
  }
}

bool BitReader::ReadSmall(int nbits, uint64_t* v) {
  if (!ok_) return false;
  if (nbits == 0) {
    *v = 0;
    return true;
  }
  while (fill_ < nbits) {
    if (pos_ >= in_.size()) {
      ok_ = false;
      return false;
    }
    acc_ = (acc_ << 8) | static_cast<unsigned char>(in_[pos_++]);
    fill_ += 8;
  }
  fill_ -= nbits;
  *v = (acc_ >> fill_) & LowMask(nbits);
  acc_ &= LowMask(fill_);
  return true;
}

bool BitReader::ReadUnary(int limit, int* ones) {
  int n = 0;
  while (n < limit) {
    uint64_t bit = 0;
    if (!ReadSmall(1, &bit)) return false;
    if (bit == 0) break;
    ++n;
  }
  *ones = n;
  return true;
}

}  // namespace wattline::historian::codec
