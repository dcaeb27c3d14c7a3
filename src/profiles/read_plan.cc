#include "profiles/read_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>

namespace wattline::profiles {

ReadPlan PlanReads(const Profile& profile) {
  const auto& signals = profile.signals;
  std::vector<size_t> order(signals.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (signals[a].function != signals[b].function)
      return signals[a].function < signals[b].function;
    return signals[a].address < signals[b].address;
  });

  ReadPlan plan;
  plan.slots.resize(signals.size());
  for (size_t i : order) {
    const SignalSpec& s = signals[i];
    uint32_t start = s.address;
    uint32_t end = start + modbus::RegisterCount(s.type);  // exclusive
    bool fits = false;
    if (!plan.blocks.empty()) {
      ReadBlock& b = plan.blocks.back();
      uint32_t b_end = uint32_t{b.address} + b.count;
      fits = b.function == s.function && start <= b_end + profile.max_gap &&
             std::max(end, b_end) - b.address <= profile.max_registers;
      if (fits) b.count = static_cast<uint16_t>(std::max(end, b_end) - b.address);
    }
    if (!fits) {
      plan.blocks.push_back({s.function, s.address, static_cast<uint16_t>(end - start)});
    }
    plan.slots[i] = {i, plan.blocks.size() - 1,
                     static_cast<uint16_t>(s.address - plan.blocks.back().address)};
  }
  return plan;
}

Result<std::vector<wire::SignalValue>> Decode(const Profile& profile, const ReadPlan& plan,
                                              const std::vector<std::vector<uint16_t>>& blocks) {
  if (blocks.size() != plan.blocks.size()) {
    return Fail(InvalidArgument(
        fmt::format("got {} register blocks for a plan of {}", blocks.size(), plan.blocks.size())));
  }
  for (size_t b = 0; b < blocks.size(); ++b) {
    if (blocks[b].size() != plan.blocks[b].count) {
      return Fail(InvalidArgument(fmt::format("block {} has {} registers, plan expects {}", b,
                                              blocks[b].size(), plan.blocks[b].count)));
    }
  }
  std::vector<wire::SignalValue> out;
  out.reserve(plan.slots.size());
  for (const auto& slot : plan.slots) {
    if (slot.signal >= profile.signals.size() || slot.block >= blocks.size()) {
      return Fail(InvalidArgument("read plan does not belong to this profile"));
    }
    const SignalSpec& s = profile.signals[slot.signal];
    const auto& regs = blocks[slot.block];
    if (slot.offset > regs.size())
      return Fail(InvalidArgument("read plan does not belong to this profile"));
    auto raw = modbus::DecodeAsDouble(std::span(regs).subspan(slot.offset), s.type, s.word_order);
    if (!raw) return Fail(raw.error());
    double v = *raw * s.scale;
    wire::SignalValue sv{s.name, s.unit, s.kind, v, Quality::kGood};
    if (!std::isfinite(v)) {
      sv.value = 0;
      sv.quality = Quality::kInvalid;
    }
    out.push_back(std::move(sv));
  }
  return out;
}

}  // namespace wattline::profiles
