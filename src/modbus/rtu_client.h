// RtuClient: the Modbus RTU transport, either on a local serial line (termios via
// asio::serial_port: baud, parity, stop bits, 8 data bits, raw mode) or over a TCP connection to
// a transparent serial gateway ("RTU over TCP": the same frames, no MBAP header).
//
// RTU has no length field and no transaction id: the end of a reply is found from its function
// code and byte count (RtuResponseLength) and checked with its CRC. Before each request the
// client keeps the 3.5-character silent interval of the line's baud rate (plus
// ClientOptions::pause_between_requests) after the previous exchange and discards any bytes
// still pending, so a late reply to a timed-out request cannot be taken for the next one. A
// complete frame from another unit id is discarded; a frame with a bad CRC or an unexpected
// function code is an error (kInvalidArgument) and the input is flushed (TCP: reconnect).
// Requests are serialized: one request at a time on the line. Errors as in Client.
//
// Thread-safety: not thread-safe; one io_context thread. The client must outlive the coroutines
// that call it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "modbus/client.h"
#include "modbus/endpoint_queue.h"

namespace wattline::modbus {

enum class Parity : uint8_t { kNone = 0, kEven = 1, kOdd = 2 };

struct SerialOptions {
  std::string device;  // "/dev/ttyUSB0"
  uint32_t baud = 9600;
  Parity parity = Parity::kEven;  // Modbus RTU default: 8E1
  uint8_t stop_bits = 1;          // 1 or 2
  uint8_t data_bits = 8;          // only 8 is valid for RTU
};

// Parses "N", "E", "O" (any case). kInvalidArgument otherwise.
Result<Parity> ParseParity(std::string_view text);

class RtuClient : public Client {
 public:
  // RTU frames on a TCP connection to host:port; `line_baud` is the baud rate of the serial
  // line behind the gateway, which sets the silent interval.
  static std::unique_ptr<RtuClient> OverTcp(boost::asio::any_io_executor executor, std::string host,
                                            uint16_t port, uint32_t line_baud,
                                            ClientOptions options = {});
  // RTU on a local serial port, opened lazily on the first request. kInvalidArgument from
  // requests when the serial settings are invalid (baud 0, stop bits not 1/2, data bits not 8).
  static std::unique_ptr<RtuClient> OnSerialPort(boost::asio::any_io_executor executor,
                                                 SerialOptions serial, ClientOptions options = {});

  ~RtuClient() override;
  RtuClient(const RtuClient&) = delete;
  RtuClient& operator=(const RtuClient&) = delete;

  boost::asio::awaitable<Result<std::string>> Transact(uint8_t unit,
                                                       std::string request_pdu) override;
  void Close() override;
  std::string Describe() const override;

  // Implementation details, declared here for the .cc's helpers.
  struct Link;
  struct Conn;

 private:
  RtuClient(boost::asio::any_io_executor executor, uint32_t baud, ClientOptions options);
  std::unique_ptr<Link> MakeLink() const;
  boost::asio::awaitable<Result<std::string>> Attempt(uint8_t unit, const std::string& pdu);
  boost::asio::awaitable<Result<std::string>> Exchange(std::shared_ptr<Conn> c, uint8_t unit,
                                                       const std::string& pdu);

  boost::asio::any_io_executor executor_;
  uint32_t baud_;
  ClientOptions options_;
  std::string host_;
  uint16_t port_ = 0;
  SerialOptions serial_;
  bool serial_mode_ = false;
  std::shared_ptr<Conn> conn_;
  EndpointQueue queue_;
};

}  // namespace wattline::modbus
