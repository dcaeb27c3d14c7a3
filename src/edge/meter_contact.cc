#include "edge/meter_contact.h"

#include <fmt/format.h>

#include "profiles/read_plan.h"

namespace wattline::edge {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// Reads `blocks` one after another; the first error ends it.
asio::awaitable<Result<std::vector<std::vector<uint16_t>>>> ReadBlocks(
    modbus::Client& client, uint8_t unit, const std::vector<profiles::ReadBlock>& blocks) {
  std::vector<std::vector<uint16_t>> out;
  for (const auto& b : blocks) {
    auto regs = co_await client.ReadRegisters(unit, b.function, b.address, b.count);
    if (!regs) co_return Fail(regs.error());
    out.push_back(std::move(*regs));
  }
  co_return out;
}

}  // namespace

asio::awaitable<Result<std::map<std::string, std::string>>> ReadIdentity(
    modbus::Client& client, uint8_t unit, const profiles::Profile& profile) {
  profiles::ReadPlan plan = profiles::PlanIdentityReads(profile);
  if (plan.blocks.empty()) co_return std::map<std::string, std::string>{};
  auto blocks = co_await ReadBlocks(client, unit, plan.blocks);
  if (!blocks) co_return Fail(blocks.error());
  co_return profiles::DecodeIdentity(profile, plan, *blocks);
}

namespace {

struct MeterClockReading {
  std::chrono::sys_seconds meter;  // what the meter's clock said
  milliseconds drift{0};           // meter minus connector
};

asio::awaitable<Result<MeterClockReading>> ReadMeterClock(modbus::Client& client, uint8_t unit,
                                                          const profiles::Profile& profile,
                                                          TimeSource& time) {
  auto block = profiles::PlanClockRead(profile);
  if (!block) co_return Fail(block.error());
  const SystemTime before = time.SystemNow();
  auto regs = co_await client.ReadRegisters(unit, block->function, block->address, block->count);
  const SystemTime after = time.SystemNow();
  if (!regs) co_return Fail(regs.error());
  auto meter = profiles::DecodeClock(*profile.clock, *regs);
  if (!meter) co_return Fail(meter.error());
  // The meter read its clock somewhere during the exchange: compare with the middle. A clock of
  // one-second resolution reads up to a second behind; half a second is added to centre that.
  const SystemTime mid = before + (after - before) / 2;
  const SystemTime meter_time = SystemTime(*meter) + milliseconds(500);
  co_return MeterClockReading{*meter, std::chrono::duration_cast<milliseconds>(meter_time - mid)};
}

}  // namespace

asio::awaitable<Result<milliseconds>> ReadClockDrift(modbus::Client& client, uint8_t unit,
                                                     const profiles::Profile& profile,
                                                     TimeSource& time) {
  auto c = co_await ReadMeterClock(client, unit, profile, time);
  if (!c) co_return Fail(c.error());
  co_return c->drift;
}

asio::awaitable<Result<std::vector<profiles::HistoryRecord>>> ReadHistory(
    modbus::Client& client, uint8_t unit, const profiles::Profile& profile, TimeSource& time) {
  auto plan = profiles::PlanHistoryReads(profile);
  if (!plan) co_return Fail(plan.error());
  const std::chrono::seconds interval = std::chrono::minutes(profile.history->interval_minutes);
  auto interval_of = [&](std::chrono::sys_seconds t) { return t.time_since_epoch() / interval; };
  // Which interval record 0 is depends on the meter's clock. With a clock, it is read before and
  // after the records; when an interval ended in between (the records may have shifted), read
  // again. Without one, the connector's clock stands in.
  for (int attempt = 0; attempt < 3; ++attempt) {
    MeterClockReading first{std::chrono::floor<std::chrono::seconds>(time.SystemNow())};
    if (profile.clock) {
      auto c = co_await ReadMeterClock(client, unit, profile, time);
      if (!c) co_return Fail(c.error());
      first = *c;
    }
    auto blocks = co_await ReadBlocks(client, unit, *plan);
    if (!blocks) co_return Fail(blocks.error());
    MeterClockReading last{std::chrono::floor<std::chrono::seconds>(time.SystemNow())};
    if (profile.clock) {
      auto c = co_await ReadMeterClock(client, unit, profile, time);
      if (!c) co_return Fail(c.error());
      last = *c;
    }
    if (interval_of(first.meter) != interval_of(last.meter)) continue;
    auto records = profiles::DecodeHistory(profile, *blocks, last.meter);
    if (!records) co_return Fail(records.error());
    // Interval ends on the connector's clock.
    for (auto& r : *records) r.end = std::chrono::floor<std::chrono::seconds>(r.end - last.drift);
    co_return records;
  }
  co_return Fail(Unavailable("history: the meter's interval changed during every read"));
}

asio::awaitable<Result<ClockSyncResult>> SyncClock(modbus::Client& client, uint8_t unit,
                                                   const profiles::Profile& profile,
                                                   TimeSource& time) {
  ClockSyncResult result;
  auto before = co_await ReadClockDrift(client, unit, profile, time);
  // A meter whose clock lost its time (kDataLoss) is exactly the one to set.
  if (!before && before.error().code() != Code::kDataLoss) co_return Fail(before.error());
  result.drift_before = before ? *before : milliseconds(0);
  auto now = std::chrono::round<std::chrono::seconds>(time.SystemNow());
  auto regs = profiles::EncodeClockWrite(*profile.clock, now);
  if (!regs) co_return Fail(regs.error());
  Status written = co_await client.WriteRegisters(unit, profile.clock->write_address, *regs);
  if (!written.ok()) co_return Fail(written);
  auto after = co_await ReadClockDrift(client, unit, profile, time);
  if (!after) co_return Fail(after.error());
  result.drift_after = *after;
  co_return result;
}

}  // namespace wattline::edge
