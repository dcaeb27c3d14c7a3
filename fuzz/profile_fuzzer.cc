// libFuzzer target for uploaded driver files: ParseProfile must answer any bytes with a profile
// or an error naming the line, never crash; a profile it accepts must plan and decode any
// register contents (also its clock and history) without crashing.
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "profiles/clock_history.h"
#include "profiles/profile.h"
#include "profiles/read_plan.h"

using namespace wattline::profiles;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto profile = ParseProfile(in, "fuzz");
  if (!profile) return 0;
  ReadPlan plan = PlanReads(*profile);
  std::vector<std::vector<uint16_t>> blocks;
  for (const auto& block : plan.blocks) blocks.emplace_back(block.count, 0xFFFF);
  (void)Decode(*profile, plan, blocks);
  // Clock and history registers (profiles/clock_history.h) planned from the same profile.
  if (auto clock = PlanClockRead(*profile); clock) {
    std::vector<uint16_t> regs(clock->count, 0xFFFF);
    (void)DecodeClock(*profile->clock, regs);
    (void)EncodeClockWrite(*profile->clock, std::chrono::sys_seconds(std::chrono::seconds(0)));
  }
  if (auto history = PlanHistoryReads(*profile); history) {
    std::vector<std::vector<uint16_t>> records;
    for (const auto& block : *history) records.emplace_back(block.count, 0xFFFF);
    (void)DecodeHistory(*profile, records, std::chrono::sys_seconds(std::chrono::seconds(0)));
  }
  return 0;
}
