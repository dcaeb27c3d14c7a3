#include "edge/adaptive_plan.h"

#include <spdlog/spdlog.h>

#include "modbus/pdu.h"

namespace wattline::edge {

AdaptiveReads::AdaptiveReads(const profiles::ReadPlan& plan) : blocks_(plan.blocks) {
  for (const auto& b : blocks_) pieces_.push_back({b});
}

boost::asio::awaitable<Result<std::vector<std::vector<uint16_t>>>> AdaptiveReads::ReadAll(
    modbus::Client& client, uint8_t unit, uint64_t& requests) {
  std::vector<std::vector<uint16_t>> out(blocks_.size());
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const profiles::ReadBlock& block = blocks_[i];
    out[i].assign(block.count, 0);
    auto& pieces = pieces_[i];
    for (size_t j = 0; j < pieces.size();) {
      const profiles::ReadBlock piece = pieces[j];
      modbus::ReadRequest request{piece.function, piece.address, piece.count};
      auto pdu = modbus::EncodeReadRequest(request);
      if (!pdu) co_return Fail(pdu.error());
      ++requests;
      auto reply = co_await client.Transact(unit, std::move(*pdu));
      if (!reply) co_return Fail(reply.error());
      uint8_t code = modbus::ExceptionCodeOf(*reply);
      if ((code == 0x02 || code == 0x03) && piece.count > 1) {
        // Gaps the profile declares readable are readable, so a rejected merged read means the
        // device's size limit (or firmware quirk) is below the plan's: halve and remember.
        uint16_t left = static_cast<uint16_t>(piece.count / 2);
        profiles::ReadBlock a{piece.function, piece.address, left};
        profiles::ReadBlock b{piece.function, static_cast<uint16_t>(piece.address + left),
                              static_cast<uint16_t>(piece.count - left)};
        pieces[j] = a;
        pieces.insert(pieces.begin() + static_cast<std::ptrdiff_t>(j) + 1, b);
        ++splits_;
        spdlog::info(
            "{} unit {}: exception {:02X} for {} registers at {}; reading {} + {} from now on",
            client.Describe(), unit, code, piece.count, piece.address, a.count, b.count);
        continue;
      }
      auto regs = modbus::DecodeReadResponse(*reply, request);
      if (!regs) co_return Fail(regs.error());
      std::copy(regs->begin(), regs->end(), out[i].begin() + (piece.address - block.address));
      ++j;
    }
  }
  co_return out;
}

}  // namespace wattline::edge
