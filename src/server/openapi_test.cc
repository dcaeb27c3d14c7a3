// The API document (src/server/openapi.json) against the routes a started server really has:
// every route is documented, every documented operation exists, and the document is
// well-formed where clients rely on it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cctype>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "server/api.h"
#include "server/server_app.h"

namespace wattline::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json Document() { return json::parse(kOpenApiJson); }

std::set<std::string> DocumentedOperations(const json& doc) {
  std::set<std::string> out;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, op] : item.items()) {
      std::string upper = method;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.insert(upper + " " + path);
    }
  }
  return out;
}

TEST(OpenApiTest, EveryRouteIsDocumentedAndEveryDocumentedOperationExists) {
  const fs::path dir = fs::temp_directory_path() / ("wattline-openapi-" + std::to_string(getpid()));
  fs::remove_all(dir);
  boost::asio::io_context io;
  ServerApp app(io);
  ServerConfig config;
  config.listen_port = 0;
  config.data_dir = dir.string();
  config.admin_password = "not-used-in-this-test-1";
  ASSERT_TRUE(app.Start(config).ok());
  const auto routes = app.Routes();
  app.Stop();
  const std::set<std::string> real(routes.begin(), routes.end());
  ASSERT_EQ(real.size(), routes.size()) << "a route is registered twice";
  const std::set<std::string> documented = DocumentedOperations(Document());
  for (const auto& r : real) EXPECT_TRUE(documented.count(r)) << "not in openapi.json: " << r;
  for (const auto& d : documented) EXPECT_TRUE(real.count(d)) << "no such route: " << d;
  EXPECT_GE(real.size(), 16u);
  fs::remove_all(dir);
}

TEST(OpenApiTest, OperationsAreCompleteAndReferencesResolve) {
  const json doc = Document();
  EXPECT_EQ(doc.at("openapi").get<std::string>().rfind("3.0.", 0), 0u);
  std::set<std::string> ids;
  for (const auto& [path, item] : doc.at("paths").items()) {
    EXPECT_EQ(path.rfind("/api/v1/", 0), 0u) << path;
    for (const auto& [method, op] : item.items()) {
      const std::string where = method + " " + path;
      ASSERT_TRUE(op.contains("operationId")) << where;
      EXPECT_TRUE(ids.insert(op.at("operationId").get<std::string>()).second) << where;
      EXPECT_FALSE(op.value("summary", "").empty()) << where;
      // Who may call it: what integration.access checks against the running server.
      static const std::set<std::string> kRoles = {"public",        "connector", "session",
                                                   "viewer",        "operator",  "engineer",
                                                   "administrator", "system"};
      EXPECT_TRUE(kRoles.count(op.value("x-wattline-role", ""))) << where << ": x-wattline-role";
      ASSERT_TRUE(op.contains("responses") && !op.at("responses").empty()) << where;
      // Every {name} of the path is a declared path parameter.
      for (size_t open = path.find('{'); open != std::string::npos;
           open = path.find('{', open + 1)) {
        const std::string name = path.substr(open + 1, path.find('}', open) - open - 1);
        bool declared = false;
        for (const auto& p : op.value("parameters", json::array())) {
          json resolved = p;
          if (p.contains("$ref")) {
            const std::string ref = p.at("$ref");
            resolved = doc.at(json::json_pointer(ref.substr(1)));
          }
          declared |= resolved.value("in", "") == "path" && resolved.value("name", "") == name;
        }
        EXPECT_TRUE(declared) << where << ": path parameter " << name;
      }
    }
  }
  // Every $ref points into the document.
  std::function<void(const json&)> check = [&](const json& j) {
    if (j.is_object()) {
      if (j.contains("$ref")) {
        const std::string ref = j.at("$ref");
        ASSERT_EQ(ref.rfind("#/", 0), 0u) << ref;
        EXPECT_TRUE(doc.contains(json::json_pointer(ref.substr(1)))) << ref;
      }
      for (const auto& [k, v] : j.items()) check(v);
    } else if (j.is_array()) {
      for (const auto& v : j) check(v);
    }
  };
  check(doc);
}

}  // namespace
}  // namespace wattline::server
