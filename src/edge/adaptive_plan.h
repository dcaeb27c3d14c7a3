// AdaptiveReads: executes a profile's ReadPlan against one device and learns the device's real
// read limits. When the device answers exception 02 (illegal data address) or 03 (illegal data
// value) to a block read of more than one register, the block is split in halves and read
// again; the split is remembered, so later cycles send the smaller reads straight away. The
// registers of the pieces are put back together, so decoding sees the plan's blocks unchanged.
//
// Thread-safety: not thread-safe; one per meter, used by that meter's poll coroutine only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "modbus/client.h"
#include "profiles/read_plan.h"

namespace wattline::edge {

class AdaptiveReads {
 public:
  AdaptiveReads() = default;
  explicit AdaptiveReads(const profiles::ReadPlan& plan);

  // Reads every block of the plan from `unit` via `client`, splitting on exception 02/03 as
  // described above. Returns the registers per plan block. `requests` is incremented per request
  // sent. Errors: the client's, or the exception of a single-register read (a register the device
  // really lacks).
  boost::asio::awaitable<Result<std::vector<std::vector<uint16_t>>>> ReadAll(modbus::Client& client,
                                                                             uint8_t unit,
                                                                             uint64_t& requests);

  // The reads currently sent for plan block `i` (the block itself until a split was learned).
  const std::vector<profiles::ReadBlock>& pieces(size_t i) const { return pieces_[i]; }
  // Number of splits learned so far.
  uint64_t splits() const { return splits_; }

 private:
  std::vector<profiles::ReadBlock> blocks_;
  std::vector<std::vector<profiles::ReadBlock>> pieces_;
  uint64_t splits_ = 0;
};

}  // namespace wattline::edge
