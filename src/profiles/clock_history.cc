#include "profiles/clock_history.h"

#include <fmt/format.h>

#include <algorithm>

#include "modbus/register_decode.h"
#include "profiles/signal_codec.h"

namespace wattline::profiles {
namespace {

using std::chrono::sys_seconds;

constexpr int kMinYear = 1970;
constexpr int kMaxYear = 9999;

}  // namespace

uint16_t ClockRegisterCount(const ClockSpec& clock) {
  return clock.encoding == ClockSpec::Encoding::kEpochU32 ? 2 : 6;
}

Result<ReadBlock> PlanClockRead(const Profile& profile) {
  if (!profile.clock) {
    return Fail(FailedPrecondition(fmt::format("profile {} has no <clock>", profile.id)));
  }
  return ReadBlock{profile.clock->function, profile.clock->address,
                   ClockRegisterCount(*profile.clock)};
}

Result<sys_seconds> DecodeClock(const ClockSpec& clock, std::span<const uint16_t> regs) {
  if (regs.size() != ClockRegisterCount(clock)) {
    return Fail(InvalidArgument(fmt::format("clock: got {} registers, the encoding has {}",
                                            regs.size(), ClockRegisterCount(clock))));
  }
  if (clock.encoding == ClockSpec::Encoding::kEpochU32) {
    uint32_t secs = modbus::DecodeUint32(regs.first<2>(), modbus::WordOrder::kABCD);
    return sys_seconds(std::chrono::seconds(secs));
  }
  // Every field is range-checked before it meets std::chrono, whose types only promise results
  // for valid dates.
  int year = int{regs[0]} + clock.year_base;
  unsigned month = regs[1], day = regs[2], hour = regs[3], minute = regs[4], second = regs[5];
  bool valid = year >= kMinYear && year <= kMaxYear && month >= 1 && month <= 12 && day >= 1 &&
               day <= 31 && hour <= 23 && minute <= 59 && second <= 59;
  std::chrono::year_month_day ymd{std::chrono::year(valid ? year : kMinYear),
                                  std::chrono::month(valid ? month : 1),
                                  std::chrono::day(valid ? day : 1)};
  if (!valid || !ymd.ok()) {
    return Fail(
        DataLoss(fmt::format("clock registers hold no valid time: {}-{:02}-{:02} "
                             "{:02}:{:02}:{:02} (year base {})",
                             year, month, day, hour, minute, second, clock.year_base)));
  }
  return sys_seconds(std::chrono::sys_days(ymd)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second);
}

Result<std::vector<uint16_t>> EncodeClockWrite(const ClockSpec& clock, sys_seconds t) {
  int64_t secs = t.time_since_epoch().count();
  if (clock.encoding == ClockSpec::Encoding::kEpochU32) {
    if (secs < 0 || secs > int64_t{UINT32_MAX}) {
      return Fail(
          InvalidArgument(fmt::format("clock: {} s since 1970 does not fit epoch-u32", secs)));
    }
    auto words = modbus::EncodeUint32(static_cast<uint32_t>(secs), modbus::WordOrder::kABCD);
    return std::vector<uint16_t>{words[0], words[1]};
  }
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(day);
  int year = static_cast<int>(ymd.year());
  int stored = year - clock.year_base;
  if (year < kMinYear || year > kMaxYear || stored < 0 || stored > UINT16_MAX) {
    return Fail(InvalidArgument(
        fmt::format("clock: year {} cannot be stored with year base {}", year, clock.year_base)));
  }
  std::chrono::hh_mm_ss hms(t - day);
  return std::vector<uint16_t>{static_cast<uint16_t>(stored),
                               static_cast<uint16_t>(static_cast<unsigned>(ymd.month())),
                               static_cast<uint16_t>(static_cast<unsigned>(ymd.day())),
                               static_cast<uint16_t>(hms.hours().count()),
                               static_cast<uint16_t>(hms.minutes().count()),
                               static_cast<uint16_t>(hms.seconds().count())};
}

sys_seconds HistoryRecordEnd(const HistorySpec& history, sys_seconds meter_now, uint32_t index) {
  const std::chrono::seconds interval =
      std::chrono::minutes(std::max<int>(1, history.interval_minutes));
  // Floor division, also for instants before 1970.
  auto since = meter_now.time_since_epoch();
  auto intervals = since / interval;
  if (since % interval < std::chrono::seconds(0)) --intervals;
  return sys_seconds(interval * intervals) - interval * int64_t{index};
}

Result<SignalSpec> HistoryRecordSpec(const Profile& profile) {
  if (!profile.history) {
    return Fail(FailedPrecondition(fmt::format("profile {} has no <history>", profile.id)));
  }
  const HistorySpec& h = *profile.history;
  for (const SignalSpec& s : profile.signals) {
    if (s.name != h.signal) continue;
    SignalSpec spec = s;
    spec.function = h.function;
    spec.address = h.address;
    spec.format = SignalFormat::kNumber;
    spec.length = 0;
    spec.bit = 0;
    spec.scale = h.scale;
    spec.scale_register.reset();
    // A sentinel is a raw pattern of the signal's type; in another type it means something else.
    if (spec.type != h.type) spec.invalid.clear();
    spec.type = h.type;
    return spec;
  }
  return Fail(FailedPrecondition(
      fmt::format("profile {}: <history> signal '{}' is not defined", profile.id, h.signal)));
}

Result<std::vector<ReadBlock>> PlanHistoryReads(const Profile& profile) {
  auto spec = HistoryRecordSpec(profile);
  if (!spec) return Fail(spec.error());
  const HistorySpec& h = *profile.history;
  const uint32_t width = modbus::RegisterCount(h.type);
  if (width > profile.max_registers) {
    return Fail(FailedPrecondition(
        fmt::format("profile {}: a {} history record is longer than max-registers {}", profile.id,
                    modbus::ValueTypeName(h.type), profile.max_registers)));
  }
  if (uint32_t{h.address} + uint32_t{h.records} * width > 65536) {
    return Fail(FailedPrecondition(
        fmt::format("profile {}: {} history records from address {} run past register 65535",
                    profile.id, h.records, h.address)));
  }
  std::vector<ReadBlock> blocks;
  bool open = false;  // whether the last block may grow (the previous record was read)
  for (uint32_t i = 0; i < h.records; ++i) {
    uint32_t address = h.address + i * width;
    if (profile.IsForbidden(h.function, address, width)) {
      open = false;
      continue;
    }
    if (open && blocks.back().count + width <= profile.max_registers) {
      blocks.back().count = static_cast<uint16_t>(blocks.back().count + width);
    } else {
      blocks.push_back({h.function, static_cast<uint16_t>(address), static_cast<uint16_t>(width)});
      open = true;
    }
  }
  return blocks;
}

Result<std::vector<HistoryRecord>> DecodeHistory(const Profile& profile,
                                                 const std::vector<std::vector<uint16_t>>& blocks,
                                                 sys_seconds meter_now) {
  auto plan = PlanHistoryReads(profile);
  if (!plan) return Fail(plan.error());
  auto spec = HistoryRecordSpec(profile);
  if (!spec) return Fail(spec.error());
  if (blocks.size() != plan->size()) {
    return Fail(InvalidArgument(fmt::format("history: got {} register blocks for a plan of {}",
                                            blocks.size(), plan->size())));
  }
  const HistorySpec& h = *profile.history;
  std::vector<HistoryRecord> out(h.records);
  for (uint32_t i = 0; i < h.records; ++i) {
    out[i] = {HistoryRecordEnd(h, meter_now, i), 0, Quality::kInvalid};
  }
  const uint16_t width = modbus::RegisterCount(h.type);
  for (size_t b = 0; b < blocks.size(); ++b) {
    const ReadBlock& block = (*plan)[b];
    if (blocks[b].size() != block.count) {
      return Fail(InvalidArgument(fmt::format("history: block {} has {} registers, plan expects {}",
                                              b, blocks[b].size(), block.count)));
    }
    std::span<const uint16_t> regs(blocks[b]);
    size_t first = (block.address - h.address) / width;
    for (size_t k = 0; k < block.count / width; ++k) {
      auto decoded = DecodeNumber(*spec, regs.subspan(k * width, width));
      if (!decoded) return Fail(decoded.error());
      out[first + k].value = decoded->value;
      out[first + k].quality = decoded->quality;
    }
  }
  return out;
}

}  // namespace wattline::profiles
