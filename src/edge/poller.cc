#include "edge/poller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <mutex>
#include <set>

#include "edge/adaptive_plan.h"
#include "edge/meter_contact.h"
#include "modbus/tcp_client.h"
#include "profiles/read_plan.h"

namespace wattline::edge {

std::string_view TransportName(Transport transport) {
  switch (transport) {
    case Transport::kRtuOverTcp:
      return "rtu-over-tcp";
    case Transport::kSerial:
      return "serial";
    default:
      return "tcp";
  }
}

std::optional<Transport> ParseTransport(std::string_view name) {
  for (Transport t : {Transport::kTcp, Transport::kRtuOverTcp, Transport::kSerial}) {
    if (name == TransportName(t)) return t;
  }
  return std::nullopt;
}

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
    std::string transport = "tcp";
    if (t->get("transport") != nullptr) {
      if (Status s = str("transport", transport); !s.ok()) return Fail(s);
    }
    if (auto parsed = ParseTransport(transport)) {
      m.transport = *parsed;
    } else {
      return Fail(ConfigError(i, m.key, *t->get("transport"),
                              "'transport' must be \"tcp\", \"rtu-over-tcp\" or \"serial\""));
    }
    int64_t port = 0, unit = 0, cycle = 0, baud = 0, stop_bits = 0, pause = 0;
    for (Status s :
         {str("key", m.key), str("profile", m.profile), integer("unit_id", 1, 0, 255, unit),
          integer("cycle_ms", 1000, 100, 86'400'000, cycle),
          integer("baud", 9600, 300, 4'000'000, baud), integer("stop_bits", 1, 1, 2, stop_bits),
          integer("pause_ms", 0, 0, 60'000, pause)}) {
      if (!s.ok()) return Fail(s);
    }
    if (m.transport == Transport::kSerial) {
      if (Status s = str("serial_port", m.serial.device); !s.ok()) return Fail(s);
    } else {
      for (Status s : {str("host", m.host), integer("port", -1, 1, 65535, port)}) {
        if (!s.ok()) return Fail(s);
      }
    }
    if (t->get("parity") != nullptr) {
      std::string parity;
      if (Status s = str("parity", parity); !s.ok()) return Fail(s);
      auto p = modbus::ParseParity(parity);
      if (!p) return Fail(ConfigError(i, m.key, *t->get("parity"), p.error().message()));
      m.serial.parity = *p;
    }
    m.serial.baud = static_cast<uint32_t>(baud);
    m.serial.stop_bits = static_cast<uint8_t>(stop_bits);
    m.pause_between_requests = std::chrono::milliseconds(pause);
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
    AdaptiveReads reads;
    modbus::Client* client = nullptr;
    std::unique_ptr<asio::steady_timer> timer;
    int64_t offset_ms = 0;           // the meter's slot within its cycle (PollerOptions::stagger)
    int64_t first_poll_ms = 0;       // scheduled time of the first successful poll
    int64_t next_clock_sync_ms = 0;  // 0: not scheduled
    MeterStatus status;              // guarded by State::mutex
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
  std::map<std::string, std::unique_ptr<modbus::Client>> clients;  // by endpoint
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
    spdlog::warn("meter {} ({} unit {}): poll failed ({} failures since last report): {}",
                 m.config.key, m.client->Describe(), m.config.unit_id, m.errors_since_log,
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
  uint64_t requests = 0;
  uint64_t splits_before = m.reads.splits();
  auto blocks = co_await m.reads.ReadAll(*m.client, m.config.unit_id, requests);
  if (st->stopped) co_return;
  {
    std::lock_guard lock(st->mutex);
    m.status.request_count += requests;
    m.status.split_count += m.reads.splits() - splits_before;
  }
  if (!blocks) {
    RecordFailure(*st, m, blocks.error());
    co_return;
  }
  auto values = profiles::Decode(*m.profile, m.plan, *blocks);
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

// A failure that says nothing about the meter (it is unreachable or we are stopping): first
// contact is tried again after the next successful poll.
bool Transient(const Status& s) {
  return s.code() == Code::kUnavailable || s.code() == Code::kDeadlineExceeded ||
         s.code() == Code::kCancelled;
}

// Identity, clock and recorded history of a meter, once after its first successful poll.
asio::awaitable<void> FirstContact(std::shared_ptr<State> st, State::Meter& m) {
  const profiles::Profile& profile = *m.profile;
  Status problem;
  auto identity = co_await ReadIdentity(*m.client, m.config.unit_id, profile);
  if (st->stopped || (!identity && Transient(identity.error()))) co_return;
  if (!identity) problem = identity.error();
  if (profile.clock) {
    auto drift = co_await ReadClockDrift(*m.client, m.config.unit_id, profile, st->time);
    if (st->stopped || (!drift && Transient(drift.error()))) co_return;
    std::lock_guard lock(st->mutex);
    m.status.clock_known = drift.has_value();
    m.status.clock_drift_ms = drift ? drift->count() : 0;
    m.status.clock_error = drift ? Status::Ok() : drift.error();
  }
  uint32_t delivered = 0;
  if (profile.history) {
    auto records = co_await ReadHistory(*m.client, m.config.unit_id, profile, st->time);
    if (st->stopped || (!records && Transient(records.error()))) co_return;
    auto spec = profiles::HistoryRecordSpec(profile);
    if (!records) {
      problem = records.error();
    } else if (!spec) {
      problem = spec.error();
    } else {
      // Oldest first, and only what lies before the first poll: the live readings cover the rest.
      for (auto it = records->rbegin(); it != records->rend(); ++it) {
        const int64_t end_ms = ToUnixMs(SystemTime(it->end));
        if (end_ms >= m.first_poll_ms) continue;
        wire::SignalValue v{spec->name, spec->unit, spec->kind, it->value, it->quality};
        std::vector<wire::SignalValue> values{std::move(v)};
        try {
          st->sink(
              wire::MeterReading{m.config.key, profile.DisplayName(), end_ms, std::move(values)});
        } catch (const std::exception& e) {
          spdlog::error("meter {}: reading sink failed: {}", m.config.key, e.what());
        }
        ++delivered;
      }
    }
  }
  if (!problem.ok()) {
    spdlog::warn("meter {}: first contact: {}", m.config.key, problem.ToString());
  } else {
    spdlog::info("meter {}: first contact: {} identity values, {} recorded values", m.config.key,
                 identity->size(), delivered);
  }
  std::lock_guard lock(st->mutex);
  m.status.contacted = true;
  if (identity) m.status.identity = std::move(*identity);
  m.status.history_records = delivered;
  m.status.contact_error = problem;
}

// The next `time_of_day` (UTC) strictly after `now_ms`.
int64_t NextDaily(int64_t now_ms, std::chrono::seconds time_of_day) {
  constexpr int64_t kDayMs = 86'400'000;
  int64_t at = now_ms / kDayMs * kDayMs + time_of_day.count() * 1000;
  while (at <= now_ms) at += kDayMs;
  return at;
}

asio::awaitable<void> ClockSync(std::shared_ptr<State> st, State::Meter& m) {
  auto result = co_await SyncClock(*m.client, m.config.unit_id, *m.profile, st->time);
  if (st->stopped) co_return;
  {
    std::lock_guard lock(st->mutex);
    if (result) {
      m.status.clock_known = true;
      m.status.clock_drift_ms = result->drift_after.count();
      m.status.last_clock_sync_ms = ToUnixMs(st->time.SystemNow());
      m.status.clock_error = Status::Ok();
    } else {
      m.status.clock_error = result.error();
    }
  }
  if (result) {
    spdlog::info("meter {}: clock set (was {} ms off, now {} ms)", m.config.key,
                 result->drift_before.count(), result->drift_after.count());
  } else {
    spdlog::warn("meter {}: clock sync failed: {}", m.config.key, result.error().ToString());
  }
}

asio::awaitable<void> PollLoop(std::shared_ptr<State> st, size_t index) {
  State::Meter& m = st->meters[index];
  const int64_t cycle_ms = m.config.cycle.count();
  while (!st->stopped) {
    // The meter's next slot (a wall-clock multiple of the cycle plus the meter's offset) strictly
    // after now; missed slots are skipped.
    int64_t now_ms = ToUnixMs(st->time.SystemNow());
    int64_t scheduled_ms = ((now_ms - m.offset_ms) / cycle_ms + 1) * cycle_ms + m.offset_ms;
    m.timer->expires_after(std::chrono::milliseconds(scheduled_ms - now_ms));
    boost::system::error_code ec;
    co_await m.timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (st->stopped) break;
    co_await PollOnce(st, m, scheduled_ms);
    if (st->stopped) break;
    const bool polled = m.status.last_success_ts_ms == scheduled_ms;  // only this thread writes it
    if (polled && m.first_poll_ms == 0) m.first_poll_ms = scheduled_ms;
    if (polled && !m.status.contacted) co_await FirstContact(st, m);
    if (st->stopped) break;
    if (polled && m.next_clock_sync_ms != 0 && scheduled_ms >= m.next_clock_sync_ms) {
      co_await ClockSync(st, m);
      m.next_clock_sync_ms =
          NextDaily(ToUnixMs(st->time.SystemNow()), *st->options.clock_sync_time);
    }
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
    m.reads = AdaptiveReads(m.plan);
  }
  // One client per physical endpoint: meters behind one gateway or on one serial line share it
  // (and its queue); the pause between requests is the largest any of its meters asks for.
  std::map<std::string, modbus::ClientOptions> endpoint_options;
  auto endpoint_of = [](const MeterConfig& c) {
    switch (c.transport) {
      case Transport::kSerial:
        return "serial:" + c.serial.device;
      case Transport::kRtuOverTcp:
        return fmt::format("rtu:{}:{}", c.host, c.port);
      case Transport::kTcp:
        break;
    }
    return fmt::format("{}:{}", c.host, c.port);
  };
  for (auto& m : st.meters) {
    auto [it, inserted] = endpoint_options.emplace(endpoint_of(m.config), st.options.client);
    it->second.pause_between_requests =
        std::max({it->second.pause_between_requests, m.config.pause_between_requests,
                  std::chrono::milliseconds(m.profile->pause_ms)});
  }
  // Staggering: the endpoints polled on a cycle get evenly spaced slots within it, so that a
  // thousand meters are not all due at the same instant (one thread sends their requests one
  // after another, and the last would start late by the time it takes to send them all).
  // Meters behind one endpoint share its slot; its queue serializes them anyway.
  if (st.options.stagger) {
    std::map<int64_t, std::vector<std::string>> endpoints_by_cycle;  // in configuration order
    for (const auto& m : st.meters) {
      auto& list = endpoints_by_cycle[m.config.cycle.count()];
      std::string endpoint = endpoint_of(m.config);
      if (std::find(list.begin(), list.end(), endpoint) == list.end()) list.push_back(endpoint);
    }
    for (auto& m : st.meters) {
      const auto& list = endpoints_by_cycle[m.config.cycle.count()];
      auto rank = std::find(list.begin(), list.end(), endpoint_of(m.config)) - list.begin();
      m.offset_ms = m.config.cycle.count() * rank / static_cast<int64_t>(list.size());
      m.status.slot_offset_ms = m.offset_ms;
    }
  }
  for (auto& m : st.meters) {
    std::string endpoint = endpoint_of(m.config);
    const modbus::ClientOptions& options = endpoint_options[endpoint];
    auto& client = st.clients[endpoint];
    if (!client) {
      auto ex = st.io.get_executor();
      switch (m.config.transport) {
        case Transport::kTcp:
          client = std::make_unique<modbus::TcpClient>(ex, m.config.host, m.config.port, options);
          break;
        case Transport::kRtuOverTcp:
          client = modbus::RtuClient::OverTcp(ex, m.config.host, m.config.port,
                                              m.config.serial.baud, options);
          break;
        case Transport::kSerial:
          client = modbus::RtuClient::OnSerialPort(ex, m.config.serial, options);
          break;
      }
    }
    m.client = client.get();
    m.timer = std::make_unique<asio::steady_timer>(st.io);
    if (st.options.clock_sync_time && m.profile->clock) {
      m.next_clock_sync_ms = NextDaily(ToUnixMs(st.time.SystemNow()), *st.options.clock_sync_time);
    }
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
