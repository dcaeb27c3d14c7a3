#include "http/client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "http/websocket_session.h"

namespace wattline::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

struct HttpsClient::Impl {
  asio::any_io_executor executor;
  std::shared_ptr<asio::ssl::context> tls;
  std::string host;
  uint16_t port;
  std::unique_ptr<TlsStream> stream;
  beast::flat_buffer buffer;

  asio::awaitable<Status> Connect(std::chrono::milliseconds timeout) {
    beast::error_code ec;
    tcp::resolver resolver(executor);
    auto results = co_await resolver.async_resolve(host, std::to_string(port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return Unavailable("cannot resolve " + host + ": " + ec.message());
    auto s = std::make_unique<TlsStream>(beast::tcp_stream(executor), *tls);
    SSL* ssl = s->native_handle();
    // Verify that the certificate names the host we dialled (IP SAN or DNS SAN).
    asio::ip::make_address(host, ec);
    if (!ec) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, host.c_str());
      SSL_set1_host(ssl, host.c_str());
    }
    ec = {};
    beast::get_lowest_layer(*s).expires_after(timeout);
    co_await beast::get_lowest_layer(*s).async_connect(
        results, asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return Unavailable("cannot connect to " + host + ":" + std::to_string(port) + ": " +
                            ec.message());
    beast::get_lowest_layer(*s).socket().set_option(tcp::no_delay(true), ec);
    co_await s->async_handshake(asio::ssl::stream_base::client,
                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      long verify = SSL_get_verify_result(ssl);
      std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ec.message();
      co_return Unavailable("TLS handshake with " + host + ":" + std::to_string(port) +
                            " failed: " + why);
    }
    stream = std::move(s);
    buffer.clear();
    co_return Status::Ok();
  }
};

HttpsClient::HttpsClient(asio::any_io_executor executor, std::shared_ptr<asio::ssl::context> tls,
                         std::string host, uint16_t port)
    : impl_(std::make_unique<Impl>(
          Impl{std::move(executor), std::move(tls), std::move(host), port, nullptr, {}})) {}

HttpsClient::~HttpsClient() = default;

void HttpsClient::Close() {
  if (impl_->stream) {
    beast::error_code ec;
    beast::get_lowest_layer(*impl_->stream).socket().close(ec);
    impl_->stream.reset();
  }
}

asio::awaitable<Result<ClientResponse>> HttpsClient::Send(
    bhttp::verb method, std::string target, std::string content_type, std::string body,
    std::vector<std::pair<std::string, std::string>> headers, std::chrono::milliseconds timeout) {
  if (!impl_->stream) {
    Status s = co_await impl_->Connect(timeout);
    if (!s.ok()) co_return Fail(s);
  }
  bhttp::request<bhttp::string_body> req{method, target, 11};
  req.set(bhttp::field::host, impl_->host);
  req.set(bhttp::field::user_agent, "wattline-edge");
  if (!content_type.empty()) req.set(bhttp::field::content_type, content_type);
  for (const auto& [k, v] : headers) req.insert(beast::string_view(k.data(), k.size()), v);
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();

  TlsStream& stream = *impl_->stream;
  beast::error_code ec;
  beast::get_lowest_layer(stream).expires_after(timeout);
  co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(4 * 1024 * 1024);
  if (!ec) {
    co_await bhttp::async_read(stream, impl_->buffer, parser,
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    Close();
    if (ec == beast::error::timeout)
      co_return Fail(DeadlineExceeded("no answer from " + impl_->host + " within timeout"));
    co_return Fail(Unavailable("request to " + impl_->host + " failed: " + ec.message()));
  }
  auto res = parser.release();
  ClientResponse out{res.result_int(), std::move(res.body())};
  if (!res.keep_alive()) Close();
  co_return out;
}

}  // namespace wattline::http
