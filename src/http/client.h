// HttpsClient: one keep-alive HTTPS connection to one server, for the connector's uplink.
// The peer certificate is verified against the context's trust anchors and the host name or IP
// address the client was given. Requests are sequential: at most one in flight.
// Thread-safety: use from one executor (strand or single-threaded io_context).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace wattline::http {

struct ClientResponse {
  unsigned status = 0;
  std::string body;
};

class HttpsClient {
 public:
  HttpsClient(boost::asio::any_io_executor executor, std::shared_ptr<boost::asio::ssl::context> tls,
              std::string host, uint16_t port);
  ~HttpsClient();

  // Sends one request and reads the answer. Connects (TCP, TLS, verification) first when no
  // connection is open. Returns kUnavailable when the server cannot be reached or the TLS
  // verification fails, kDeadlineExceeded after `timeout`; the connection is closed on any
  // error and reopened by the next call. Any HTTP status is a successful Result.
  boost::asio::awaitable<Result<ClientResponse>> Send(
      boost::beast::http::verb method, std::string target, std::string content_type,
      std::string body, std::vector<std::pair<std::string, std::string>> headers,
      std::chrono::milliseconds timeout);

  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wattline::http
