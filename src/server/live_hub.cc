#include "server/live_hub.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>

namespace wattline::server {
namespace {

// Whether two sorted id lists share an element.
bool Intersects(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  auto i = a.begin();
  auto j = b.begin();
  while (i != a.end() && j != b.end()) {
    if (*i < *j) {
      ++i;
    } else if (*j < *i) {
      ++j;
    } else {
      return true;
    }
  }
  return false;
}

std::vector<int64_t> Union(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<int64_t> Difference(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

void SortUnique(std::vector<int64_t>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

// "1, 2, 3" for an error message; long lists are cut after 20 ids.
std::string IdList(const std::vector<int64_t>& ids) {
  constexpr size_t kShown = 20;
  std::string out;
  for (size_t i = 0; i < ids.size() && i < kShown; ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(ids[i]);
  }
  if (ids.size() > kShown) out += fmt::format(" and {} more", ids.size() - kShown);
  return out;
}

// A values frame: {"type":"values","ts_ms":T,"values":[...]} (docs/api.md). Each value is an
// array [signal_id, value, dt_ms, quality] whose last two members are left out when they are 0
// and "good": at 1,000 signals a batch is about a sixth of the bytes of objects with named keys,
// and those bytes are what a broadcast to many clients pays for, once per client (TLS).
std::string FramePrefix(int64_t ts_ms) {
  return fmt::format(R"({{"type":"values","ts_ms":{},"values":[)", ts_ms);
}
constexpr std::string_view kFrameSuffix = "]}";

}  // namespace

uint64_t LiveHub::Join(int64_t tenant_id, Sink sink) {
  const uint64_t id = next_id_++;
  by_tenant_[tenant_id].emplace(id, Client{std::move(sink), false, {}});
  tenant_of_[id] = tenant_id;
  return id;
}

void LiveHub::Leave(uint64_t client_id) {
  auto t = tenant_of_.find(client_id);
  if (t == tenant_of_.end()) return;
  auto it = by_tenant_.find(t->second);
  tenant_of_.erase(t);
  if (it == by_tenant_.end()) return;
  it->second.erase(client_id);
  if (it->second.empty()) by_tenant_.erase(it);
}

size_t LiveHub::subscribers(int64_t tenant_id) const {
  auto it = by_tenant_.find(tenant_id);
  return it == by_tenant_.end() ? 0 : it->second.size();
}

uint64_t LiveHub::stored_batches(int64_t tenant_id) const {
  auto it = stored_.find(tenant_id);
  return it == stored_.end() ? 0 : it->second;
}

void LiveHub::SendError(Client& client, const std::string& message) {
  client.sink(std::make_shared<const std::string>(
      nlohmann::json{{"type", "error"}, {"message", message}}.dump()));
}

void LiveHub::OnMessage(uint64_t client_id, std::string_view text, const SignalCheck& check) {
  auto t = tenant_of_.find(client_id);
  if (t == tenant_of_.end()) return;
  const int64_t tenant = t->second;
  Client& client = by_tenant_[tenant].at(client_id);
  auto refuse = [&](const std::string& why) {
    spdlog::warn("live client {} of tenant {}: message refused: {}", client_id, tenant, why);
    SendError(client, why);
  };
  if (text.size() > kMaxMessageBytes) {
    return refuse(fmt::format("message of {} bytes is too large (at most {})", text.size(),
                              kMaxMessageBytes));
  }
  const nlohmann::json msg = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  constexpr char kExpected[] =
      R"(expected {"type": "subscribe" or "unsubscribe", "signals": [signal ids]})";
  if (msg.is_discarded()) return refuse(std::string("not JSON; ") + kExpected);
  if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string() ||
      !msg.contains("signals") || !msg["signals"].is_array()) {
    return refuse(kExpected);
  }
  const std::string& type = msg["type"].get_ref<const std::string&>();
  if (type != "subscribe" && type != "unsubscribe") {
    return refuse("unknown message type '" + type + "'; " + kExpected);
  }
  const nlohmann::json& list = msg["signals"];
  if (list.size() > kMaxIdsPerMessage) {
    return refuse(
        fmt::format("{} signal ids in one message; at most {}", list.size(), kMaxIdsPerMessage));
  }
  std::vector<int64_t> ids;
  ids.reserve(list.size());
  for (const nlohmann::json& v : list) {
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > INT64_MAX)) {
      return refuse("signal ids must be integers, got " + v.dump());
    }
    ids.push_back(v.get<int64_t>());
  }
  SortUnique(ids);
  auto unknown = check(ids);
  if (!unknown) return refuse("cannot check the signal ids: " + unknown.error().message());
  SortUnique(*unknown);
  if (!unknown->empty()) ids = Difference(ids, *unknown);

  if (type == "subscribe") {
    client.ids = client.explicit_ids ? Union(client.ids, ids) : std::move(ids);
    client.explicit_ids = true;
  } else {
    // Before the first subscribe `ids` lists the signals taken out of "everything".
    client.ids = client.explicit_ids ? Difference(client.ids, ids) : Union(client.ids, ids);
  }
  if (!unknown->empty()) {
    spdlog::info("live client {} of tenant {}: unknown signal ids ignored: {}", client_id, tenant,
                 IdList(*unknown));
    SendError(client, "unknown signal ids, ignored: " + IdList(*unknown));
  }
}

void LiveHub::Publish(int64_t tenant_id, std::span<const LiveValue> values) {
  auto it = by_tenant_.find(tenant_id);
  if (it == by_tenant_.end() || values.empty()) return;

  // Every value is serialized once; `pieces` holds where each one sits in the whole frame, and
  // the frames for single clients are copied together from those pieces.
  const std::string prefix = FramePrefix(values.front().ts_ms);
  std::string whole;
  whole.reserve(prefix.size() + values.size() * 24);
  whole += prefix;
  std::vector<std::pair<size_t, size_t>> pieces;
  pieces.reserve(values.size());
  std::vector<int64_t> batch_ids;
  batch_ids.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const LiveValue& v = values[i];
    if (i > 0) whole += ',';
    const size_t begin = whole.size();
    auto out = std::back_inserter(whole);
    fmt::format_to(out, "[{},", v.signal_id);
    if (std::isfinite(v.value)) {
      fmt::format_to(out, "{}", v.value);
    } else {
      whole += "null";
    }
    const int64_t dt = v.ts_ms - values.front().ts_ms;
    if (v.quality != Quality::kGood) {
      fmt::format_to(out, R"(,{},"{}")", dt, QualityName(v.quality));
    } else if (dt != 0) {
      fmt::format_to(out, ",{}", dt);
    }
    whole += ']';
    pieces.emplace_back(begin, whole.size());
    batch_ids.push_back(v.signal_id);
  }
  whole += kFrameSuffix;
  SortUnique(batch_ids);

  Frame shared;
  for (auto& [id, client] : it->second) {
    const bool covers = client.explicit_ids ? std::includes(client.ids.begin(), client.ids.end(),
                                                            batch_ids.begin(), batch_ids.end())
                                            : !Intersects(client.ids, batch_ids);
    if (covers) {
      if (!shared) {
        shared = std::make_shared<const std::string>(std::move(whole));
        ++shared_frames_;
      }
      client.sink(shared);
      continue;
    }
    std::string frame;
    const std::string& src = shared ? *shared : whole;
    for (size_t i = 0; i < values.size(); ++i) {
      const bool listed =
          std::binary_search(client.ids.begin(), client.ids.end(), values[i].signal_id);
      if (listed != client.explicit_ids) continue;
      frame += frame.empty() ? std::string_view(prefix) : std::string_view(",");
      frame.append(src, pieces[i].first, pieces[i].second - pieces[i].first);
    }
    if (frame.empty()) continue;
    frame += kFrameSuffix;
    ++filtered_frames_;
    client.sink(std::make_shared<const std::string>(std::move(frame)));
  }
}

}  // namespace wattline::server
