#include "sim/gateway.h"

#include <algorithm>

#include "modbus/pdu.h"
#include "modbus/rtu.h"

namespace wattline::sim {

using Reply = modbus::TcpServer::Reply;
using std::chrono::microseconds;

Gateway::Gateway(boost::asio::io_context& io, GatewayOptions options)
    : options_(options),
      server_(std::make_unique<modbus::TcpServer>(
          io, modbus::TcpServer::ReplyHandler(
                  [this](uint8_t unit, std::string_view pdu) { return Handle(unit, pdu); }))) {}

Gateway::~Gateway() { Stop(); }

void Gateway::AddUnit(uint8_t unit, UnitHandler handler) {
  units_[unit] = [h = std::move(handler)](uint8_t u, std::string_view pdu) {
    return Reply{Reply::Action::kPdu, h(u, pdu)};
  };
}

void Gateway::AddUnit(uint8_t unit, modbus::TcpServer::ReplyHandler handler) {
  units_[unit] = std::move(handler);
}

Status Gateway::Listen(const std::string& host, uint16_t port) {
  return server_->Listen(host, port);
}

uint16_t Gateway::port() const { return server_->port(); }

void Gateway::Stop() { server_->Stop(); }

microseconds Gateway::BusTime(size_t request_pdu_bytes, size_t response_pdu_bytes, uint32_t baud,
                              uint32_t bits_per_char) {
  size_t chars = request_pdu_bytes + modbus::kRtuOverhead;
  if (response_pdu_bytes > 0) chars += response_pdu_bytes + modbus::kRtuOverhead;
  return microseconds(modbus::RtuSilentIntervalUs(baud, bits_per_char) +
                      modbus::RtuWireTimeUs(chars, baud, bits_per_char));
}

Reply Gateway::Handle(uint8_t unit, std::string_view pdu) {
  Reply reply;
  auto it = units_.find(unit);
  if (it == units_.end()) {
    if (options_.silent_unknown_units) {
      reply.action = Reply::Action::kNone;
      return reply;
    }
    uint8_t function = pdu.empty() ? 0 : static_cast<uint8_t>(pdu[0]);
    reply.bytes = modbus::EncodeException(function, modbus::ExceptionCode::kGatewayTargetFailed);
  } else {
    reply = it->second(unit, pdu);
  }
  // The line carries one exchange at a time: this one starts when the previous ends (or now),
  // takes its wire time plus the device's own latency, and the answer leaves when it is done.
  size_t response_bytes = reply.action == Reply::Action::kPdu ? reply.bytes.size() : 0;
  auto now = std::chrono::steady_clock::now();
  auto start = std::max(now, line_free_at_);
  auto done = start + reply.delay +
              BusTime(pdu.size(), response_bytes, options_.baud, options_.bits_per_char);
  line_free_at_ = done;
  reply.delay = std::chrono::duration_cast<microseconds>(done - now);
  return reply;
}

}  // namespace wattline::sim
