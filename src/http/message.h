// Request and Response as the server's handlers see them: plain values, no sockets.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace wattline::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct Request {
  BeastRequest raw;                                // method, headers, body
  std::string path;                                // decoded path without the query
  std::map<std::string, std::string> query;        // decoded query parameters
  std::map<std::string, std::string> path_params;  // {name} segments matched by the router
  std::string remote;                              // peer address, for logs

  std::string Header(std::string_view name) const;
  // The value of cookie `name`, or "" when absent.
  std::string Cookie(std::string_view name) const;
  const std::string& body() const { return raw.body(); }
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(const nlohmann::json& j, unsigned status = 200);
  // The JSON error body of docs/api.md with the HTTP status mapped from the code.
  static Response Error(const Status& s);
  static Response NoContent();

  // Sets the session cookie `name` (HttpOnly, Secure, SameSite=Strict, Path=/) to `token`; an
  // empty token clears it (Max-Age=0).
  void SetSessionCookie(std::string_view name, std::string_view token);
};

// The HTTP status that a Status code maps to (one table for the whole API).
unsigned HttpStatusFor(Code code);

// Percent-decoding for paths and query strings; nullopt on a malformed escape.
std::optional<std::string> UrlDecode(std::string_view in, bool plus_is_space);

}  // namespace wattline::http
