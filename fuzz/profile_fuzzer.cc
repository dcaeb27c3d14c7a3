// libFuzzer target for uploaded driver files: ParseProfile must answer any bytes with a profile
// or an error naming the line, never crash; a profile it accepts must plan and decode any
// register contents without crashing.
#include <cstdint>
#include <string_view>
#include <vector>

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
  return 0;
}
