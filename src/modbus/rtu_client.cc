#include "modbus/rtu_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <termios.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cctype>

#include "modbus/deadline.h"
#include "modbus/pdu.h"
#include "modbus/rtu.h"

namespace wattline::modbus {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// The byte pipe under the RTU framing: a TCP socket to a gateway or a local serial port.
struct RtuClient::Link {
  virtual ~Link() = default;
  // Opens the pipe; a pending open is aborted by Cancel().
  virtual asio::awaitable<error_code> Open() = 0;
  virtual asio::awaitable<error_code> Write(std::string_view bytes) = 0;
  virtual asio::awaitable<std::pair<error_code, size_t>> ReadSome(asio::mutable_buffer buf) = 0;
  // Aborts pending operations (the deadline); TCP closes the socket, a serial port stays open.
  virtual void Cancel() = 0;
  virtual void Shut() = 0;
  // Drops bytes received but not read yet (late replies, line noise).
  virtual void DiscardInput() = 0;
  virtual bool open() const = 0;
};

namespace {

// Write and ReadSome of a link on an Asio stream (a TCP socket or a serial port).
template <class Stream>
class StreamLink : public RtuClient::Link {
 public:
  asio::awaitable<error_code> Write(std::string_view bytes) override {
    error_code ec;
    co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }
  asio::awaitable<std::pair<error_code, size_t>> ReadSome(asio::mutable_buffer buf) override {
    error_code ec;
    size_t n = co_await stream_.async_read_some(buf, asio::redirect_error(asio::use_awaitable, ec));
    co_return std::pair{ec, n};
  }
  bool open() const override { return stream_.is_open(); }

 protected:
  explicit StreamLink(const asio::any_io_executor& ex) : stream_(ex) {}
  Stream stream_;
};

class TcpLink : public StreamLink<tcp::socket> {
 public:
  TcpLink(const asio::any_io_executor& ex, std::string host, uint16_t port)
      : StreamLink(ex), resolver_(ex), host_(std::move(host)), port_(port) {}

  asio::awaitable<error_code> Open() override {
    error_code ec;
    auto endpoints = co_await resolver_.async_resolve(
        host_, std::to_string(port_), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      co_await asio::async_connect(stream_, endpoints,
                                   asio::redirect_error(asio::use_awaitable, ec));
    }
    if (!ec) stream_.set_option(tcp::no_delay(true), ec);
    co_return ec;
  }
  void Cancel() override { Shut(); }
  void Shut() override {
    error_code ignored;
    stream_.close(ignored);
    resolver_.cancel();
  }
  void DiscardInput() override {
    error_code ec;
    std::array<char, 256> junk;
    while (stream_.is_open() && stream_.available(ec) > 0 && !ec) {
      stream_.read_some(asio::buffer(junk), ec);
      if (ec) break;
    }
  }

 private:
  tcp::resolver resolver_;
  std::string host_;
  uint16_t port_;
};

class SerialLink : public StreamLink<asio::serial_port> {
 public:
  SerialLink(const asio::any_io_executor& ex, SerialOptions options)
      : StreamLink(ex), options_(std::move(options)) {}

  asio::awaitable<error_code> Open() override {
    error_code ec;
    stream_.open(options_.device, ec);
    using sp = asio::serial_port_base;
    // asio puts the line in raw mode on open (no echo, no canonical input, no translation);
    // these set the framing.
    if (!ec) stream_.set_option(sp::baud_rate(options_.baud), ec);
    if (!ec) stream_.set_option(sp::character_size(options_.data_bits), ec);
    if (!ec) {
      auto parity = options_.parity == Parity::kEven  ? sp::parity::even
                    : options_.parity == Parity::kOdd ? sp::parity::odd
                                                      : sp::parity::none;
      stream_.set_option(sp::parity(parity), ec);
    }
    if (!ec) {
      stream_.set_option(
          sp::stop_bits(options_.stop_bits == 2 ? sp::stop_bits::two : sp::stop_bits::one), ec);
    }
    if (!ec) stream_.set_option(sp::flow_control(sp::flow_control::none), ec);
    if (ec) Shut();
    co_return ec;
  }
  void Cancel() override {
    error_code ignored;
    stream_.cancel(ignored);
  }
  void Shut() override {
    error_code ignored;
    stream_.close(ignored);
  }
  void DiscardInput() override {
    if (stream_.is_open()) ::tcflush(stream_.native_handle(), TCIFLUSH);
  }

 private:
  SerialOptions options_;
};

}  // namespace

// Link and deadline shared with the timer's handler, so a handler firing after the client moved
// on (or was destroyed) never touches freed memory.
struct RtuClient::Conn {
  Conn(const asio::any_io_executor& ex, std::unique_ptr<Link> l)
      : link(std::move(l)), deadline(ex) {}
  void ShutForTimeout() { link->Cancel(); }
  std::unique_ptr<Link> link;
  Deadline deadline;
  bool cancelled = false;
};

namespace {

using ConnPtr = std::shared_ptr<RtuClient::Conn>;

}  // namespace

Result<Parity> ParseParity(std::string_view text) {
  if (text.size() == 1) {
    switch (std::toupper(static_cast<unsigned char>(text[0]))) {
      case 'N':
        return Parity::kNone;
      case 'E':
        return Parity::kEven;
      case 'O':
        return Parity::kOdd;
    }
  }
  return Fail(InvalidArgument(fmt::format("parity '{}' is not N, E or O", text)));
}

RtuClient::RtuClient(asio::any_io_executor executor, uint32_t baud, ClientOptions options)
    : executor_(std::move(executor)),
      baud_(baud),
      options_(options),
      queue_(executor_, options.reconnect_min, options.reconnect_max) {}

std::unique_ptr<RtuClient> RtuClient::OverTcp(asio::any_io_executor executor, std::string host,
                                              uint16_t port, uint32_t line_baud,
                                              ClientOptions options) {
  std::unique_ptr<RtuClient> c(new RtuClient(std::move(executor), line_baud, options));
  c->host_ = std::move(host);
  c->port_ = port;
  c->conn_ = std::make_shared<Conn>(c->executor_, c->MakeLink());
  return c;
}

std::unique_ptr<RtuClient> RtuClient::OnSerialPort(asio::any_io_executor executor,
                                                   SerialOptions serial, ClientOptions options) {
  std::unique_ptr<RtuClient> c(new RtuClient(std::move(executor), serial.baud, options));
  c->serial_ = std::move(serial);
  c->serial_mode_ = true;
  c->conn_ = std::make_shared<Conn>(c->executor_, c->MakeLink());
  return c;
}

RtuClient::~RtuClient() { Close(); }

std::unique_ptr<RtuClient::Link> RtuClient::MakeLink() const {
  if (serial_mode_) return std::make_unique<SerialLink>(executor_, serial_);
  return std::make_unique<TcpLink>(executor_, host_, port_);
}

std::string RtuClient::Describe() const {
  if (serial_mode_) return fmt::format("serial://{}", serial_.device);
  return fmt::format("rtu-over-tcp://{}:{}", host_, port_);
}

void RtuClient::Close() {
  conn_->cancelled = true;
  conn_->link->Shut();
  conn_->deadline.timer.cancel();
  conn_ = std::make_shared<Conn>(executor_, MakeLink());
  queue_.Close();
}

asio::awaitable<Result<std::string>> RtuClient::Transact(uint8_t unit, std::string request_pdu) {
  if (request_pdu.empty() || request_pdu.size() > kMaxRtuFrameSize - kRtuOverhead) {
    co_return Fail(InvalidArgument(fmt::format("request PDU of {} bytes", request_pdu.size())));
  }
  if (serial_mode_ && (baud_ == 0 || serial_.data_bits != 8 ||
                       (serial_.stop_bits != 1 && serial_.stop_bits != 2))) {
    co_return Fail(InvalidArgument(
        fmt::format("serial {}: invalid settings (baud {}, data bits {}, stop bits {})",
                    serial_.device, baud_, serial_.data_bits, serial_.stop_bits)));
  }
  // A local, not a temporary in the co_await expression (GCC 12 coroutine bug).
  const std::function<asio::awaitable<Result<std::string>>()> attempt = [&] {
    return Attempt(unit, request_pdu);
  };
  co_return co_await queue_.Run(options_.retries, attempt);
}

asio::awaitable<Result<std::string>> RtuClient::Attempt(uint8_t unit, const std::string& pdu) {
  ConnPtr c = conn_;
  if (!c->link->open()) {
    if (!queue_.MayConnect()) {
      co_return Fail(Unavailable(fmt::format("{}: not reopening for another {} ms after failures",
                                             Describe(), queue_.BackoffLeft().count())));
    }
    ArmDeadline(c, options_.connect_timeout);
    error_code ec = co_await c->link->Open();
    bool timed_out = c->deadline.timed_out;
    DisarmDeadline(c->deadline);
    if (c->cancelled) co_return Fail(Status(Code::kCancelled, "modbus client closed"));
    if (ec || timed_out) {
      c->link->Shut();
      queue_.ConnectFailed();
      if (timed_out) {
        co_return Fail(DeadlineExceeded(fmt::format("{}: open timed out after {} ms", Describe(),
                                                    options_.connect_timeout.count())));
      }
      co_return Fail(Unavailable(fmt::format("{}: cannot open: {}", Describe(), ec.message())));
    }
    queue_.ConnectSucceeded();
  }
  // The t3.5 silent interval of the line (at the gateway's far-end baud rate for RTU over TCP)
  // plus the configured pause, counted from the end of the previous exchange.
  auto gap = std::chrono::microseconds(RtuSilentIntervalUs(baud_)) +
             std::chrono::duration_cast<std::chrono::microseconds>(options_.pause_between_requests);
  if (!co_await queue_.WaitPace(gap))
    co_return Fail(Status(Code::kCancelled, "modbus client closed"));
  co_return co_await Exchange(c, unit, pdu);
}

asio::awaitable<Result<std::string>> RtuClient::Exchange(ConnPtr c, uint8_t unit,
                                                         const std::string& pdu) {
  const uint8_t function = static_cast<uint8_t>(pdu[0]);
  auto garbage = [&](std::string what) -> Status {
    DisarmDeadline(c->deadline);
    // We cannot find the next frame boundary: drop what is buffered (TCP: reconnect).
    c->link->DiscardInput();
    if (!serial_mode_) c->link->Shut();
    return InvalidArgument(fmt::format("{} unit {}: {}", Describe(), unit, what));
  };
  auto failed = [&](error_code ec, std::string_view what) -> Status {
    bool timed_out = c->deadline.timed_out;
    DisarmDeadline(c->deadline);
    if (c->cancelled) return Status(Code::kCancelled, "modbus client closed");
    if (!serial_mode_) c->link->Shut();
    if (timed_out) {
      return DeadlineExceeded(fmt::format("{} unit {}: no complete reply within {} ms", Describe(),
                                          unit, options_.request_timeout.count()));
    }
    if (serial_mode_) c->link->Shut();
    if (ec == asio::error::eof) {
      return Unavailable(fmt::format("{}: connection closed by peer while {}", Describe(), what));
    }
    return Unavailable(fmt::format("{}: {} failed: {}", Describe(), what, ec.message()));
  };

  c->link->DiscardInput();
  const std::string frame = EncodeRtuFrame(unit, pdu);
  ArmDeadline(c, options_.request_timeout);
  if (error_code ec = co_await c->link->Write(frame); ec)
    co_return Fail(failed(ec, "sending request"));

  std::string buf;
  std::array<char, kMaxRtuFrameSize> chunk;
  for (;;) {
    auto need = RtuResponseLength(buf, function);
    if (!need) co_return Fail(garbage(need.error().message()));
    if (*need != 0 && buf.size() >= *need) {
      auto reply = DecodeRtuFrame(std::string_view(buf).substr(0, *need));
      if (!reply) co_return Fail(garbage(reply.error().message()));
      if (reply->unit != unit) {
        // A late reply from another device on the line: never ours.
        spdlog::debug("{}: discarding a frame from unit {} (waiting for {})", Describe(),
                      reply->unit, unit);
        buf.erase(0, *need);
        continue;
      }
      DisarmDeadline(c->deadline);
      co_return std::move(reply->pdu);
    }
    auto [ec, n] = co_await c->link->ReadSome(asio::buffer(chunk));
    if (ec) co_return Fail(failed(ec, "reading reply"));
    buf.append(chunk.data(), n);
  }
}

}  // namespace wattline::modbus
