#include "modbus/client.h"

#include "modbus/pdu.h"

namespace wattline::modbus {

boost::asio::awaitable<Result<std::vector<uint16_t>>> Client::ReadRegisters(uint8_t unit,
                                                                            uint8_t function,
                                                                            uint16_t address,
                                                                            uint16_t count) {
  ReadRequest request{function, address, count};
  auto pdu = EncodeReadRequest(request);
  if (!pdu) co_return Fail(pdu.error());
  auto reply = co_await Transact(unit, std::move(*pdu));
  if (!reply) co_return Fail(reply.error());
  co_return DecodeReadResponse(*reply, request);
}

boost::asio::awaitable<Status> Client::WriteRegisters(uint8_t unit, uint16_t address,
                                                      std::vector<uint16_t> values) {
  WriteMultipleRequest request{address, std::move(values)};
  auto pdu = EncodeWriteMultipleRequest(request);
  if (!pdu) co_return pdu.error();
  auto reply = co_await Transact(unit, std::move(*pdu));
  if (!reply) co_return reply.error();
  co_return CheckWriteMultipleResponse(*reply, request);
}

}  // namespace wattline::modbus
