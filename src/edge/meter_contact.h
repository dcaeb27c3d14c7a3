// MeterContact: what the connector reads from a meter besides its cyclic values, through the
// meter's profile (profiles/read_plan.h, profiles/clock_history.h):
//   - identity (serial number, firmware, model name) on first contact;
//   - the meter's clock, as drift against the connector's clock;
//   - recorded interval values (<history>, e.g. 15-minute energy) on first contact, so that what
//     the meter recorded before the first poll is not lost;
//   - setting the meter's clock (the daily clock synchronization).
// Each function sends its requests through `client` to `unit` and returns the client's error or
// the profile's decoding error. They hold no state.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "modbus/client.h"
#include "profiles/clock_history.h"
#include "profiles/profile.h"

namespace wattline::edge {

// Reads the profile's identity signals (PlanIdentityReads): name -> text. Empty without any.
boost::asio::awaitable<Result<std::map<std::string, std::string>>> ReadIdentity(
    modbus::Client& client, uint8_t unit, const profiles::Profile& profile);

// The meter's clock minus the connector's (SystemNow in the middle of the read), to the meter's
// one-second resolution. kFailedPrecondition when the profile has no <clock>; kDataLoss when the
// meter's clock holds no valid time.
boost::asio::awaitable<Result<std::chrono::milliseconds>> ReadClockDrift(
    modbus::Client& client, uint8_t unit, const profiles::Profile& profile, TimeSource& time);

// Reads the profile's <history> records, newest first, with their interval ends converted to the
// connector's clock. Which interval the newest record is comes from the meter's clock, read
// before and after the records (again when an interval ended in between); a profile without
// <clock> uses the connector's clock. kFailedPrecondition when the profile has no <history>.
boost::asio::awaitable<Result<std::vector<profiles::HistoryRecord>>> ReadHistory(
    modbus::Client& client, uint8_t unit, const profiles::Profile& profile, TimeSource& time);

struct ClockSyncResult {
  std::chrono::milliseconds drift_before{0};  // meter minus connector before setting
  std::chrono::milliseconds drift_after{0};   // read back after setting
};

// Sets the meter's clock to the connector's (FC16 at the clock's write address, rounded to the
// nearest second) and reads it back. Errors as ReadClockDrift, plus the write's.
boost::asio::awaitable<Result<ClockSyncResult>> SyncClock(modbus::Client& client, uint8_t unit,
                                                          const profiles::Profile& profile,
                                                          TimeSource& time);

}  // namespace wattline::edge
