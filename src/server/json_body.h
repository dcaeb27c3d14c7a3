// Reading the JSON bodies of API requests: one place for the clear errors of docs/api.md.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"
#include "http/message.h"

namespace wattline::server {

// The body as a JSON object; kInvalidArgument naming what was expected otherwise.
inline Result<nlohmann::json> ObjectBody(const http::Request& req, std::string_view expected) {
  nlohmann::json j = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Fail(InvalidArgument("the body must be a JSON object: " + std::string(expected)));
  }
  return j;
}

// Field `name` as a string: nullopt when absent or null, kInvalidArgument when not a string.
inline Result<std::optional<std::string>> OptionalString(const nlohmann::json& body,
                                                         const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Fail(InvalidArgument(std::string(name) + " must be a string"));
  return std::optional<std::string>(it->get<std::string>());
}

// Field `name` as a string that must be there.
inline Result<std::string> RequiredString(const nlohmann::json& body, const char* name) {
  auto s = OptionalString(body, name);
  if (!s) return Fail(s.error());
  if (!*s) return Fail(InvalidArgument(std::string(name) + " is required"));
  return **s;
}

}  // namespace wattline::server
