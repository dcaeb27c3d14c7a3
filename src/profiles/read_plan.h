// ReadPlan: how to fetch all signals of a profile with as few Modbus block reads as possible,
// and how to turn the blocks' registers back into signal values.
// Thread-safety: value types and stateless functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
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
    static constexpr size_t kNone = static_cast<size_t>(-1);
    size_t signal = 0;  // index into Profile::signals
    size_t block = 0;
    uint16_t offset = 0;
    // The signal's scale-factor register, when it has one.
    size_t sf_block = kNone;
    uint16_t sf_offset = 0;
  };
  std::vector<ReadBlock> blocks;  // ordered by function, then address
  std::vector<Slot> slots;        // one per planned signal, in profile order
};

// Plans the readings: every signal but the identity ones (SignalSpec::IsIdentity), plus their
// scale-factor registers. Merges registers into blocks: same function code, each next signal
// starting at most profile.max_gap registers after the block's end, no block longer than
// profile.max_registers and none touching a <forbidden> range. Overlapping signals share
// registers.
ReadPlan PlanReads(const Profile& profile);

// The same for the identity signals only (serial number, firmware, model name): read once at
// connect time, not every cycle. An empty plan when the profile has none.
ReadPlan PlanIdentityReads(const Profile& profile);

// Decodes `blocks` (the registers read for plan.blocks, same order) into one SignalValue per
// slot of the plan, in profile order, with scale, scale register, offset, inversion and invalid
// sentinels applied (signal_codec.h). An invalid value gets Quality::kInvalid and value 0.
// kInvalidArgument when the number of blocks or a block's length does not match the plan.
Result<std::vector<wire::SignalValue>> Decode(const Profile& profile, const ReadPlan& plan,
                                              const std::vector<std::vector<uint16_t>>& blocks);

// Decodes the blocks of PlanIdentityReads into signal name -> text ("serial_number" ->
// "70001234"). Errors as Decode.
Result<std::map<std::string, std::string>> DecodeIdentity(
    const Profile& profile, const ReadPlan& plan, const std::vector<std::vector<uint16_t>>& blocks);

}  // namespace wattline::profiles
