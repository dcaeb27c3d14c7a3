// Clock and history registers of a meter (<clock> and <history> in a driver profile): which
// registers to read, what they mean, and what to write to set the clock. The connector uses these
// to sync a meter's clock and to fetch its recorded intervals; the simulator uses the same
// functions to serve them, so one profile drives both sides.
//
// Record timing: record i of a history covers the interval that ends at
//   floor(meter_now, interval) - i * interval
// where meter_now is the meter's own clock and the floor is taken on the UTC epoch grid (15-minute
// intervals end at :00, :15, :30, :45 UTC; 1440-minute ones at 00:00 UTC). Record 0 is the newest
// complete interval.
// Thread-safety: stateless functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "core/sample.h"
#include "core/status.h"
#include "profiles/profile.h"
#include "profiles/read_plan.h"

namespace wattline::profiles {

// Registers the clock occupies: 2 (epoch-u32) or 6 (ymdhms-u16).
uint16_t ClockRegisterCount(const ClockSpec& clock);

// The one read that fetches the clock (clock.function, clock.address, ClockRegisterCount).
// kFailedPrecondition when the profile has no <clock>.
Result<ReadBlock> PlanClockRead(const Profile& profile);

// The time held in `regs`, the ClockRegisterCount(clock) registers read at clock.address.
// kInvalidArgument for another number of registers. kDataLoss when the registers hold no valid
// time (month 13, February 30, hour 24, second 60, a year outside 1970..9999): the meter's clock
// has lost its time and needs setting.
Result<std::chrono::sys_seconds> DecodeClock(const ClockSpec& clock,
                                             std::span<const uint16_t> regs);

// The ClockRegisterCount(clock) registers that set the clock to `t`, to be written with FC16 at
// clock.write_address (the same layout a read returns). kInvalidArgument when the encoding cannot
// hold `t`: outside 1970-01-01..2106-02-07 for epoch-u32; for ymdhms-u16 a year outside
// 1970..9999 or one below year_base or more than 65535 above it.
Result<std::vector<uint16_t>> EncodeClockWrite(const ClockSpec& clock, std::chrono::sys_seconds t);

// One recorded interval.
struct HistoryRecord {
  std::chrono::sys_seconds end;  // end of the interval, in the meter's clock
  double value = 0;              // in the recorded signal's unit; 0 when invalid
  Quality quality = Quality::kGood;
};

// The end of record `index` for a meter whose clock reads `meter_now` (see the file comment).
std::chrono::sys_seconds HistoryRecordEnd(const HistorySpec& history,
                                          std::chrono::sys_seconds meter_now, uint32_t index);

// The spec a history record is encoded and decoded with: the recorded signal's spec (name, unit,
// kind, word order, offset, invert) with the history's function code, address (of record 0), type
// and scale, and no scale register. The signal's `invalid` patterns apply only when the history
// has the signal's type. kFailedPrecondition when the profile has no <history> or its signal is
// not defined.
Result<SignalSpec> HistoryRecordSpec(const Profile& profile);

// Block reads covering the history records in order: each block holds whole records, at most
// profile.max_registers registers, and touches no <forbidden> range (records inside one are not
// read). kFailedPrecondition when the profile has no <history>, its signal is not defined, one
// record is longer than max_registers or the records run past register 65535.
Result<std::vector<ReadBlock>> PlanHistoryReads(const Profile& profile);

// Decodes the registers read for PlanHistoryReads(profile) (same order) into history.records
// records, newest first, with end times from `meter_now` (the meter's clock when it was read).
// A raw value the record spec calls invalid (NaN, an `invalid` pattern) and a record the plan
// could not read (forbidden) come back with Quality::kInvalid and value 0. kInvalidArgument when
// the number of blocks or a block's length does not match the plan; errors of PlanHistoryReads.
Result<std::vector<HistoryRecord>> DecodeHistory(const Profile& profile,
                                                 const std::vector<std::vector<uint16_t>>& blocks,
                                                 std::chrono::sys_seconds meter_now);

}  // namespace wattline::profiles
