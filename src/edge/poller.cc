#include "edge/poller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <mutex>
#include <set>

#include "profiles/read_plan.h"

namespace wattline::edge {

namespace asio = boost::asio;

namespace {

constexpr auto kErrorLogInterval = std::chrono::seconds(60);

// "meter #2 (meter-02), line 14: ..."
Status ConfigError(size_t index, const std::string& key, const toml::node& node,
                   const std::string& what) {
  return InvalidArgument(fmt::format("[[meter]] #{}{}, line {}: {}", index + 1,
                                     key.empty() ? "" : " (" + key + ")", node.source().begin.line,
                                     what));
}

}  // namespace

Result<std::vector<MeterConfig>> MeterConfigsFromToml(const toml::table& config) {
  std::vector<MeterConfig> out;
  const toml::node* node = config.get("meter");
  if (node == nullptr) return out;
  const toml::array* meters = node->as_array();
  if (meters == nullptr)
    return Fail(ConfigError(0, "", *node, "'meter' must be an array of tables ([[meter]])"));
  std::set<std::string> keys;
  for (size_t i = 0; i < meters->size(); ++i) {
    const toml::table* t = (*meters)[i].as_table();
    if (t == nullptr) return Fail(ConfigError(i, "", (*meters)[i], "not a table"));
    MeterConfig m;
    auto str = [&](const char* name, std::string& dst) -> Status {
      const toml::node* n = t->get(name);
      if (n == nullptr) return ConfigError(i, m.key, *t, fmt::format("missing '{}'", name));
      auto v = n->value<std::string>();
      if (!v || !n->is_string() || v->empty()) {
        return ConfigError(i, m.key, *n, fmt::format("'{}' must be a non-empty string", name));
      }
      dst = *v;
      return Status::Ok();
    };
    auto integer = [&](const char* name, int64_t fallback, int64_t lo, int64_t hi,
                       int64_t& dst) -> Status {
      const toml::node* n = t->get(name);
      if (n == nullptr) {
        if (fallback < lo) return ConfigError(i, m.key, *t, fmt::format("missing '{}'", name));
        dst = fallback;
        return Status::Ok();
      }
      auto v = n->value<int64_t>();
      if (!n->is_integer() || !v || *v < lo || *v > hi) {
        return ConfigError(i, m.key, *n,
                           fmt::format("'{}' must be an integer in {}..{}", name, lo, hi));
      }
      dst = *v;
      return Status::Ok();
    };
    int64_t port = 0, unit = 0, cycle = 0;
    for (Status s : {str("key", m.key), str("host", m.host), str("profile", m.profile),
                     integer("port", -1, 1, 65535, port), integer("unit_id", 1, 0, 255, unit),
                     integer("cycle_ms", 1000, 100, 86'400'000, cycle)}) {
      if (!s.ok()) return Fail(s);
    }
    m.port = static_cast<uint16_t>(port);
    m.unit_id = static_cast<uint8_t>(unit);
    m.cycle = std::chrono::milliseconds(cycle);
    if (!keys.insert(m.key).second) return Fail(ConfigError(i, m.key, *t, "duplicate key"));
    out.push_back(std::move(m));
  }
  return out;
}

struct Poller::State {
  struct Meter {
    MeterConfig config;
    const profiles::Profile* profile = nullptr;
    profiles::ReadPlan plan;
    modbus::TcpClient* client = nullptr;
    std::unique_ptr<asio::steady_timer> timer;
    MeterStatus status;  // guarded by State::mutex
    MonotonicTime last_error_log{};
    uint64_t errors_since_log = 0;
  };

  State(asio::io_context& io, const profiles::ProfileRegistry& registry, Sink sink,
        PollerOptions options, TimeSource& time)
      : io(io), registry(registry), sink(std::move(sink)), options(options), time(time) {}

  asio::io_context& io;
  const profiles::ProfileRegistry& registry;
  Sink sink;
  PollerOptions options;
  TimeSource& time;
  std::vector<Meter> meters;
  std::map<std::string, std::unique_ptr<modbus::TcpClient>> clients;  // by "host:port"
  bool started = false;
  bool stopped = false;
  mutable std::mutex mutex;
};

namespace {

using State = Poller::State;

void RecordFailure(State& st, State::Meter& m, const Status& error) {
  {
    std::lock_guard lock(st.mutex);
    m.status.last_error = error;
    ++m.status.error_count;
  }
  // Rate-limited: the first failure, then one line a minute with the count in between.
  MonotonicTime now = st.time.MonotonicNow();
  bool first = m.errors_since_log == 0 && m.last_error_log == MonotonicTime{};
  ++m.errors_since_log;
  if (first || now - m.last_error_log >= kErrorLogInterval) {
    spdlog::warn("meter {} ({}:{} unit {}): poll failed ({} failures since last report): {}",
                 m.config.key, m.config.host, m.config.port, m.config.unit_id, m.errors_since_log,
                 error.ToString());
    m.last_error_log = now;
    m.errors_since_log = 0;
  }
}

void RecordSuccess(State& st, State::Meter& m, int64_t scheduled_ms, int64_t took_ms) {
  bool recovered = false;
  {
    std::lock_guard lock(st.mutex);
    recovered = !m.status.last_error.ok();
    m.status.last_error = Status::Ok();
    m.status.last_response_time_ms = took_ms;
    m.status.last_success_ts_ms = scheduled_ms;
  }
  if (recovered) {
    spdlog::info("meter {}: polling again", m.config.key);
    m.last_error_log = MonotonicTime{};
    m.errors_since_log = 0;
  }
}

asio::awaitable<void> PollOnce(std::shared_ptr<State> st, State::Meter& m, int64_t scheduled_ms) {
  MonotonicTime started = st->time.MonotonicNow();
  std::vector<std::vector<uint16_t>> blocks;
  blocks.reserve(m.plan.blocks.size());
  for (const auto& b : m.plan.blocks) {
    {
      std::lock_guard lock(st->mutex);
      ++m.status.request_count;
    }
    auto regs = co_await m.client->ReadRegisters(m.config.unit_id, b.function, b.address, b.count);
    if (st->stopped) co_return;
    if (!regs) {
      RecordFailure(*st, m, regs.error());
      co_return;
    }
    blocks.push_back(std::move(*regs));
  }
  auto values = profiles::Decode(*m.profile, m.plan, blocks);
  if (!values) {
    RecordFailure(*st, m, values.error());
    co_return;
  }
  auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(st->time.MonotonicNow() - started);
  RecordSuccess(*st, m, scheduled_ms, took.count());
  try {
    st->sink(wire::MeterReading{m.config.key, m.profile->DisplayName(), scheduled_ms,
                                std::move(*values)});
  } catch (const std::exception& e) {
    spdlog::error("meter {}: reading sink failed: {}", m.config.key, e.what());
  }
}

asio::awaitable<void> PollLoop(std::shared_ptr<State> st, size_t index) {
  State::Meter& m = st->meters[index];
  const int64_t cycle_ms = m.config.cycle.count();
  while (!st->stopped) {
    // The next wall-clock multiple of the cycle strictly after now; missed slots are skipped.
    int64_t now_ms = ToUnixMs(st->time.SystemNow());
    int64_t scheduled_ms = (now_ms / cycle_ms + 1) * cycle_ms;
    m.timer->expires_after(std::chrono::milliseconds(scheduled_ms - now_ms));
    boost::system::error_code ec;
    co_await m.timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (st->stopped) break;
    co_await PollOnce(st, m, scheduled_ms);
  }
}

}  // namespace

Poller::Poller(asio::io_context& io, const profiles::ProfileRegistry& registry,
               std::vector<MeterConfig> meters, Sink sink, PollerOptions options, TimeSource& time)
    : state_(std::make_shared<State>(io, registry, std::move(sink), options, time)) {
  for (auto& config : meters) {
    State::Meter m;
    m.status.key = config.key;
    m.config = std::move(config);
    state_->meters.push_back(std::move(m));
  }
}

Poller::~Poller() { Stop(); }

Status Poller::Start() {
  State& st = *state_;
  if (st.started) return InvalidArgument("poller already started");
  std::set<std::string> keys;
  for (auto& m : st.meters) {
    if (!keys.insert(m.config.key).second)
      return InvalidArgument(fmt::format("duplicate meter key '{}'", m.config.key));
    if (m.config.cycle.count() <= 0)
      return InvalidArgument(fmt::format("meter {}: cycle must be positive", m.config.key));
    m.profile = st.registry.Find(m.config.profile);
    if (m.profile == nullptr) {
      return FailedPrecondition(
          fmt::format("meter {}: unknown profile '{}'", m.config.key, m.config.profile));
    }
    m.plan = profiles::PlanReads(*m.profile);
  }
  for (auto& m : st.meters) {
    std::string endpoint = fmt::format("{}:{}", m.config.host, m.config.port);
    auto& client = st.clients[endpoint];
    if (!client) {
      client = std::make_unique<modbus::TcpClient>(st.io.get_executor(), m.config.host,
                                                   m.config.port, st.options.client);
    }
    m.client = client.get();
    m.timer = std::make_unique<asio::steady_timer>(st.io);
  }
  st.started = true;
  for (size_t i = 0; i < st.meters.size(); ++i) {
    asio::co_spawn(st.io, PollLoop(state_, i),
                   [key = st.meters[i].config.key](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       spdlog::error("meter {}: poll loop ended: {}", key, ex.what());
                     }
                   });
  }
  return Status::Ok();
}

void Poller::Stop() {
  State& st = *state_;
  if (st.stopped) return;
  st.stopped = true;
  for (auto& m : st.meters) {
    if (m.timer) m.timer->cancel();
  }
  for (auto& [endpoint, client] : st.clients) client->Close();
}

std::vector<MeterStatus> Poller::Statuses() const {
  std::lock_guard lock(state_->mutex);
  std::vector<MeterStatus> out;
  for (const auto& m : state_->meters) out.push_back(m.status);
  return out;
}

}  // namespace wattline::edge
