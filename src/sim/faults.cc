#include "sim/faults.h"

#include "modbus/pdu.h"

namespace wattline::sim {

using Reply = modbus::TcpServer::Reply;

FaultInjector::FaultInjector(Handler inner, FaultConfig config, uint32_t seed)
    : inner_(std::move(inner)), config_(config), rng_(seed) {}

void FaultInjector::Set(const FaultConfig& config) {
  std::lock_guard lock(mutex_);
  config_ = config;
}

FaultConfig FaultInjector::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

FaultStats FaultInjector::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool FaultInjector::Roll(double rate) {
  if (rate <= 0) return false;
  if (rate >= 1) return true;
  return std::uniform_real_distribution<double>(0, 1)(rng_) < rate;
}

Reply FaultInjector::Handle(uint8_t unit, std::string_view pdu) {
  FaultConfig c;
  Reply reply;
  {
    std::lock_guard lock(mutex_);
    c = config_;
    ++stats_.requests;
    reply.delay = c.latency;
    if (Roll(c.timeout_rate)) {
      ++stats_.timeouts;
      reply.action = Reply::Action::kNone;
      return reply;
    }
    if (Roll(c.drop_rate)) {
      ++stats_.drops;
      reply.action = Reply::Action::kClose;
      return reply;
    }
    if (Roll(c.garbage_rate)) {
      ++stats_.garbage;
      reply.action = Reply::Action::kRaw;
      // Protocol id 0x4142 and a length of 0xFFFF: no Modbus TCP (or RTU) reader accepts it.
      reply.bytes = std::string("\x13\x37\x41\x42\xFF\xFFgarbage", 13);
      return reply;
    }
    uint8_t function = pdu.empty() ? 0 : static_cast<uint8_t>(pdu[0]);
    if (c.max_read_registers > 0) {
      auto read = modbus::DecodeReadRequest(pdu);
      if (read && read->count > c.max_read_registers) {
        ++stats_.oversized_reads;
        reply.bytes = modbus::EncodeException(function, modbus::ExceptionCode::kIllegalDataValue);
        return reply;
      }
    }
    if (Roll(c.exception_rate)) {
      ++stats_.exceptions;
      reply.bytes =
          modbus::EncodeException(function, static_cast<modbus::ExceptionCode>(c.exception));
      return reply;
    }
    if (Roll(c.wrong_tid_rate)) {
      ++stats_.wrong_tids;
      reply.transaction_id_delta = 1;
    }
  }
  // The inner handler runs outside the lock: it may be slow or call back into its owner.
  reply.bytes = inner_(unit, pdu);
  return reply;
}

modbus::TcpServer::ReplyHandler FaultInjector::AsHandler() {
  return [this](uint8_t unit, std::string_view pdu) { return Handle(unit, pdu); };
}

}  // namespace wattline::sim
