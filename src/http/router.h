// Router: maps (method, path pattern) to a handler. Patterns are literal segments and {name}
// segments, e.g. "/api/v1/signals/{id}/history". Handlers run on the server's I/O thread and
// must not block for long; an AsyncHandler is a coroutine on that thread that may hand blocking
// work (an fsync) to another thread and await it, while the thread serves other requests.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <functional>
#include <string>
#include <vector>

#include "http/message.h"

namespace wattline::http {

using Handler = std::function<Response(Request&)>;
using AsyncHandler = std::function<boost::asio::awaitable<Response>(Request&)>;

// A matched route: exactly one of the two is set.
struct RouteHandler {
  Handler handler;
  AsyncHandler async_handler;
};

class Router {
 public:
  void Add(boost::beast::http::verb method, std::string pattern, Handler handler);
  void AddAsync(boost::beast::http::verb method, std::string pattern, AsyncHandler handler);

  // Finds the handler for the request and fills req.path_params. Returns nullptr when no
  // pattern matches; sets *method_mismatch when a pattern matched with another method.
  const RouteHandler* Match(Request& req, bool* method_mismatch) const;

  // Every route as "METHOD /pattern" (e.g. "GET /api/v1/signals/{id}/chart"), in the order
  // added: what the API document (OpenAPI) is checked against.
  std::vector<std::string> Routes() const;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::vector<std::string> segments;
    RouteHandler handler;
    std::string pattern;
  };
  std::vector<Route> routes_;
};

}  // namespace wattline::http
