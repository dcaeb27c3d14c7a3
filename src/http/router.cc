#include "http/router.h"

namespace wattline::http {
namespace {
std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}
}  // namespace

void Router::Add(boost::beast::http::verb method, std::string pattern, Handler handler) {
  auto segments = Split(pattern);
  routes_.push_back(
      Route{method, std::move(segments), RouteHandler{std::move(handler), nullptr}, pattern});
}

void Router::AddAsync(boost::beast::http::verb method, std::string pattern, AsyncHandler handler) {
  auto segments = Split(pattern);
  routes_.push_back(
      Route{method, std::move(segments), RouteHandler{nullptr, std::move(handler)}, pattern});
}

std::vector<std::string> Router::Routes() const {
  std::vector<std::string> out;
  for (const Route& r : routes_) {
    out.push_back(std::string(boost::beast::http::to_string(r.method)) + " " + r.pattern);
  }
  return out;
}

const RouteHandler* Router::Match(Request& req, bool* method_mismatch) const {
  *method_mismatch = false;
  std::vector<std::string> parts = Split(req.path);
  for (const Route& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t i = 0; i < parts.size() && ok; ++i) {
      const std::string& seg = route.segments[i];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
        params[seg.substr(1, seg.size() - 2)] = parts[i];
      } else {
        ok = seg == parts[i];
      }
    }
    if (!ok) continue;
    if (route.method != req.raw.method()) {
      *method_mismatch = true;
      continue;
    }
    req.path_params = std::move(params);
    return &route.handler;
  }
  return nullptr;
}

}  // namespace wattline::http
