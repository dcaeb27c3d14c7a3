// ReadPlan: how to fetch all signals of a profile with as few Modbus block reads as possible,
// and how to turn the blocks' registers back into signal values.
// Thread-safety: value types and stateless functions.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "profiles/profile.h"
#include "wire/reading.h"

namespace wattline::profiles {

struct ReadBlock {
  uint8_t function = 3;
  uint16_t address = 0;  // protocol (0-based) address
  uint16_t count = 0;    // 1..profile.max_registers
};

struct ReadPlan {
  // Where one signal's registers are: blocks[block], starting `offset` registers into it.
  struct Slot {
    size_t signal = 0;  // index into Profile::signals
    size_t block = 0;
    uint16_t offset = 0;
  };
  std::vector<ReadBlock> blocks;  // ordered by function, then address
  std::vector<Slot> slots;        // one per signal, in profile order
};

// Merges signals into blocks: same function code, each next signal starting at most
// profile.max_gap registers after the block's end, and no block longer than
// profile.max_registers. Overlapping signals share registers.
ReadPlan PlanReads(const Profile& profile);

// Decodes `blocks` (the registers read for plan.blocks, same order) into one SignalValue per
// signal, in profile order, with the profile's scale applied. A NaN or infinite value gets
// Quality::kInvalid and value 0. kInvalidArgument when the number of blocks or a block's
// length does not match the plan.
Result<std::vector<wire::SignalValue>> Decode(const Profile& profile, const ReadPlan& plan,
                                              const std::vector<std::vector<uint16_t>>& blocks);

}  // namespace wattline::profiles
