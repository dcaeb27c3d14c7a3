#include "http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wattline::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string_view ContentTypeFor(const std::filesystem::path& p) {
  static const std::map<std::string, std::string_view> types = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"}};
  auto it = types.find(p.extension().string());
  return it == types.end() ? std::string_view("application/octet-stream") : it->second;
}

void AddSecurityHeaders(bhttp::response<bhttp::string_body>& res) {
  res.set("Strict-Transport-Security", "max-age=31536000");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Content-Security-Policy",
          "default-src 'self'; connect-src 'self' wss:; img-src 'self' data:; "
          "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
}

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseHostPort(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Fail(InvalidArgument("expected HOST:PORT, got '" + text + "'"));
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  std::string_view p(text.data() + colon + 1, text.size() - colon - 1);
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || port > 65535) {
    return Fail(InvalidArgument("bad port in '" + text + "'"));
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

struct HttpsServer::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  std::shared_ptr<asio::ssl::context> tls;
  const Router& router;
  ServerOptions options;
  std::optional<tcp::acceptor> acceptor;
  std::map<std::string, WebSocketHandler> ws_handlers;
  std::set<std::shared_ptr<WebSocketSession>> ws_sessions;
  bool stopped = false;

  Impl(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls, const Router& router,
       ServerOptions options)
      : io(io), tls(std::move(tls)), router(router), options(std::move(options)) {}

  asio::awaitable<void> AcceptLoop() {
    auto self = shared_from_this();
    while (!stopped) {
      beast::error_code ec;
      tcp::socket socket =
          co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted) break;
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      asio::co_spawn(io, Session(std::move(socket)), asio::detached);
    }
  }

  Response ServeStatic(const Request& req) {
    namespace fs = std::filesystem;
    if (options.web_root.empty()) return Response::Error(NotFound("no such page"));
    fs::path rel = fs::path(req.path).relative_path().lexically_normal();
    for (const auto& part : rel) {
      if (part == "..") return Response::Error(InvalidArgument("bad path"));
    }
    fs::path file = fs::path(options.web_root) / rel;
    std::error_code ec;
    if (rel.empty() || fs::is_directory(file, ec)) file = fs::path(options.web_root) / "index.html";
    if (!fs::is_regular_file(file, ec)) {
      if (rel.has_extension()) return Response::Error(NotFound("no such file: " + req.path));
      file = fs::path(options.web_root) / "index.html";  // client-side route
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return Response::Error(NotFound("no such file: " + req.path));
    std::ostringstream body;
    body << in.rdbuf();
    Response r;
    r.content_type = std::string(ContentTypeFor(file));
    r.body = body.str();
    // Vite puts content-hashed files under assets/: those never change.
    bool hashed = rel.begin() != rel.end() && *rel.begin() == "assets";
    r.headers.emplace_back("Cache-Control",
                           hashed ? "public, max-age=31536000, immutable" : "no-cache");
    return r;
  }

  static bool ParseTarget(std::string_view target, Request& req) {
    size_t q = target.find('?');
    auto path = UrlDecode(target.substr(0, q), false);
    if (!path || path->empty() || path->front() != '/') return false;
    req.path = *path;
    if (q == std::string_view::npos) return true;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view kv = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (kv.empty()) continue;
      size_t eq = kv.find('=');
      auto k = UrlDecode(kv.substr(0, eq), true);
      auto v =
          UrlDecode(eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1), true);
      if (!k || !v) return false;
      req.query[*k] = *v;
    }
    return true;
  }

  asio::awaitable<Response> Dispatch(Request& req) {
    if (req.path.rfind("/api/", 0) != 0) {
      if (req.raw.method() != bhttp::verb::get && req.raw.method() != bhttp::verb::head) {
        co_return Response::Error(InvalidArgument("only GET for static files"));
      }
      co_return ServeStatic(req);
    }
    bool method_mismatch = false;
    const RouteHandler* handler = router.Match(req, &method_mismatch);
    if (!handler) {
      if (method_mismatch) {
        Response r = Response::Error(InvalidArgument("method not allowed"));
        r.status = 405;
        co_return r;
      }
      co_return Response::Error(NotFound("no such endpoint: " + req.path));
    }
    std::string failure;
    try {
      if (handler->async_handler) co_return co_await handler->async_handler(req);
      co_return handler->handler(req);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    spdlog::error("handler for {} {} failed: {}", std::string(req.raw.method_string()), req.path,
                  failure);
    co_return Response::Error(Internal("internal error"));
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    auto self = shared_from_this();
    std::string remote;
    {
      beast::error_code ec;
      auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    socket.set_option(tcp::no_delay(true));
    TlsStream stream(beast::tcp_stream(std::move(socket)), *tls);
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(15));
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      spdlog::debug("TLS handshake with {} failed: {}", remote, ec.message());
      co_return;
    }
    beast::flat_buffer buffer;
    while (!stopped) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.body_limit);
      parser.header_limit(16 * 1024);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(options.idle_timeout_s));
      co_await bhttp::async_read(stream, buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
            ec != beast::error::timeout && ec != asio::ssl::error::stream_truncated) {
          spdlog::info("bad request from {}: {}", remote, ec.message());
          unsigned status = ec == bhttp::error::body_limit ? 413 : 400;
          bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
          res.set(bhttp::field::content_type, "application/json");
          res.body() =
              Response::Error(InvalidArgument("malformed HTTP request: " + ec.message())).body;
          res.keep_alive(false);
          res.prepare_payload();
          co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        }
        break;
      }
      Request req;
      req.raw = parser.release();
      req.remote = remote;
      bool target_ok =
          ParseTarget(std::string_view(req.raw.target().data(), req.raw.target().size()), req);

      if (target_ok && beast::websocket::is_upgrade(req.raw)) {
        auto it = ws_handlers.find(req.path);
        if (it != ws_handlers.end()) {
          Result<WebSocketOpen> open = it->second(req);
          if (open) {
            auto session = std::make_shared<WebSocketSession>(std::move(stream));
            ws_sessions.insert(session);
            std::weak_ptr<Impl> weak = self;
            session->OnClose([weak, s = std::weak_ptr<WebSocketSession>(session)] {
              auto impl = weak.lock();
              auto sp = s.lock();
              if (impl && sp) impl->ws_sessions.erase(sp);
            });
            (*open)(session);
            co_await session->Run(std::move(req.raw));
            co_return;
          }
          spdlog::info("websocket upgrade for {} from {} refused: {}", req.path, remote,
                       open.error().ToString());
          req.raw.keep_alive(false);
          co_await WriteResponse(stream, req, Response::Error(open.error()), ec);
          break;
        }
      }

      Response r = Response::Error(InvalidArgument("malformed request target"));
      if (target_ok) r = co_await Dispatch(req);
      if (r.status >= 400) {
        spdlog::debug("{} {} from {} -> {}", std::string(req.raw.method_string()), req.path, remote,
                      r.status);
      }
      bool keep_alive = co_await WriteResponse(stream, req, std::move(r), ec);
      if (ec || !keep_alive) break;
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }

  // Writes `r` as the answer to `req`; returns whether the connection stays open.
  static asio::awaitable<bool> WriteResponse(TlsStream& stream, const Request& req, Response r,
                                             beast::error_code& ec) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status),
                                            req.raw.version()};
    res.set(bhttp::field::server, "wattline");
    if (!r.content_type.empty()) res.set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.insert(beast::string_view(k.data(), k.size()), v);
    AddSecurityHeaders(res);
    if (req.raw.method() != bhttp::verb::head) res.body() = std::move(r.body);
    res.keep_alive(req.raw.keep_alive());
    res.prepare_payload();
    co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    co_return res.keep_alive();
  }
};
HttpsServer::HttpsServer(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls,
                         const Router& router, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(tls), router, std::move(options))) {}

HttpsServer::~HttpsServer() { Stop(); }

void HttpsServer::AddWebSocket(std::string path, WebSocketHandler handler) {
  impl_->ws_handlers[std::move(path)] = std::move(handler);
}

Result<uint16_t> HttpsServer::Listen(const std::string& address, uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return Fail(InvalidArgument("bad listen address '" + address + "'"));
  tcp::endpoint ep(addr, port);
  tcp::acceptor acc(impl_->io);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(Unavailable("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                            ec.message()));
  }
  uint16_t bound = acc.local_endpoint().port();
  impl_->acceptor.emplace(std::move(acc));
  asio::co_spawn(impl_->io, impl_->AcceptLoop(), asio::detached);
  return bound;
}

void HttpsServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->acceptor) {
    beast::error_code ec;
    impl_->acceptor->close(ec);
  }
  auto sessions = impl_->ws_sessions;
  for (const auto& s : sessions) s->Close();
}

}  // namespace wattline::http
