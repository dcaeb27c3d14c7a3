#include "profiles/read_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>

#include "profiles/signal_codec.h"

namespace wattline::profiles {
namespace {

// One register range to fetch: a signal's registers or its scale-factor register.
struct Item {
  size_t signal;
  bool is_scale;
  uint8_t function;
  uint16_t address;
  uint16_t count;
};

ReadPlan Plan(const Profile& profile, bool identity) {
  const auto& signals = profile.signals;
  std::vector<Item> items;
  for (size_t i = 0; i < signals.size(); ++i) {
    const SignalSpec& s = signals[i];
    if (s.IsIdentity() != identity) continue;
    items.push_back({i, false, s.function, s.address, s.RegisterCount()});
    if (s.scale_register) items.push_back({i, true, s.function, *s.scale_register, 1});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.function != b.function) return a.function < b.function;
    return a.address < b.address;
  });

  ReadPlan plan;
  std::vector<size_t> slot_of(signals.size(), ReadPlan::Slot::kNone);
  for (size_t i = 0; i < signals.size(); ++i) {
    if (signals[i].IsIdentity() != identity) continue;
    slot_of[i] = plan.slots.size();
    plan.slots.push_back({i, 0, 0, ReadPlan::Slot::kNone, 0});
  }
  for (const Item& item : items) {
    uint32_t start = item.address;
    uint32_t end = start + item.count;  // exclusive
    bool fits = false;
    if (!plan.blocks.empty()) {
      ReadBlock& b = plan.blocks.back();
      uint32_t b_end = uint32_t{b.address} + b.count;
      uint32_t new_end = std::max(end, b_end);
      fits = b.function == item.function && start <= b_end + profile.max_gap &&
             new_end - b.address <= profile.max_registers &&
             !profile.IsForbidden(b.function, b.address, new_end - b.address);
      if (fits) b.count = static_cast<uint16_t>(new_end - b.address);
    }
    if (!fits) plan.blocks.push_back({item.function, item.address, item.count});
    ReadPlan::Slot& slot = plan.slots[slot_of[item.signal]];
    auto offset = static_cast<uint16_t>(item.address - plan.blocks.back().address);
    if (item.is_scale) {
      slot.sf_block = plan.blocks.size() - 1;
      slot.sf_offset = offset;
    } else {
      slot.block = plan.blocks.size() - 1;
      slot.offset = offset;
    }
  }
  return plan;
}

Status CheckBlocks(const ReadPlan& plan, const std::vector<std::vector<uint16_t>>& blocks) {
  if (blocks.size() != plan.blocks.size()) {
    return InvalidArgument(
        fmt::format("got {} register blocks for a plan of {}", blocks.size(), plan.blocks.size()));
  }
  for (size_t b = 0; b < blocks.size(); ++b) {
    if (blocks[b].size() != plan.blocks[b].count) {
      return InvalidArgument(fmt::format("block {} has {} registers, plan expects {}", b,
                                         blocks[b].size(), plan.blocks[b].count));
    }
  }
  return Status::Ok();
}

// The registers of a slot's signal and its scale factor, bounds-checked against the blocks.
Result<std::pair<std::span<const uint16_t>, int16_t>> SlotRegisters(
    const Profile& profile, const ReadPlan::Slot& slot,
    const std::vector<std::vector<uint16_t>>& blocks) {
  auto mismatch = [] { return Fail(InvalidArgument("read plan does not belong to this profile")); };
  if (slot.signal >= profile.signals.size() || slot.block >= blocks.size()) return mismatch();
  const SignalSpec& s = profile.signals[slot.signal];
  const auto& regs = blocks[slot.block];
  if (size_t{slot.offset} + s.RegisterCount() > regs.size()) return mismatch();
  int16_t sf = 0;
  if (s.scale_register) {
    if (slot.sf_block >= blocks.size() || slot.sf_offset >= blocks[slot.sf_block].size()) {
      return mismatch();
    }
    sf = static_cast<int16_t>(blocks[slot.sf_block][slot.sf_offset]);
  }
  return std::pair{std::span<const uint16_t>(regs).subspan(slot.offset, s.RegisterCount()), sf};
}

}  // namespace

ReadPlan PlanReads(const Profile& profile) { return Plan(profile, false); }

ReadPlan PlanIdentityReads(const Profile& profile) { return Plan(profile, true); }

Result<std::vector<wire::SignalValue>> Decode(const Profile& profile, const ReadPlan& plan,
                                              const std::vector<std::vector<uint16_t>>& blocks) {
  if (Status s = CheckBlocks(plan, blocks); !s.ok()) return Fail(s);
  std::vector<wire::SignalValue> out;
  out.reserve(plan.slots.size());
  for (const auto& slot : plan.slots) {
    auto regs = SlotRegisters(profile, slot, blocks);
    if (!regs) return Fail(regs.error());
    const SignalSpec& s = profile.signals[slot.signal];
    if (s.format == SignalFormat::kString) continue;
    auto decoded = DecodeNumber(s, regs->first, regs->second);
    if (!decoded) return Fail(decoded.error());
    out.push_back({s.name, s.unit, s.kind, decoded->value, decoded->quality});
  }
  return out;
}

Result<std::map<std::string, std::string>> DecodeIdentity(
    const Profile& profile, const ReadPlan& plan,
    const std::vector<std::vector<uint16_t>>& blocks) {
  if (Status s = CheckBlocks(plan, blocks); !s.ok()) return Fail(s);
  std::map<std::string, std::string> out;
  for (const auto& slot : plan.slots) {
    auto regs = SlotRegisters(profile, slot, blocks);
    if (!regs) return Fail(regs.error());
    const SignalSpec& s = profile.signals[slot.signal];
    auto text = DecodeText(s, regs->first, regs->second);
    if (!text) return Fail(text.error());
    out[s.name] = std::move(*text);
  }
  return out;
}

}  // namespace wattline::profiles
