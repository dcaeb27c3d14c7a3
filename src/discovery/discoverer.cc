#include "discovery/discoverer.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <bit>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <random>
#include <set>
#include <tuple>

#include "modbus/device_identification.h"
#include "modbus/tcp_client.h"
#include "profiles/device_id.h"
#include "profiles/read_plan.h"

namespace wattline::discovery {
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using profiles::Profile;

Result<Ipv4Range> ParseCidrHosts(std::string_view cidr, int min_prefix) {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) {
    return Fail(InvalidArgument(fmt::format("'{}' is not a subnet like 10.0.0.0/24", cidr)));
  }
  auto ip = ParseIpv4(cidr.substr(0, slash));
  if (!ip) return Fail(ip.error());
  std::string_view p = cidr.substr(slash + 1);
  int prefix = -1;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
  if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || prefix < 0 || prefix > 32) {
    return Fail(InvalidArgument(fmt::format("'{}': bad prefix length", cidr)));
  }
  if (prefix < min_prefix) {
    return Fail(InvalidArgument(
        fmt::format("'{}': larger than /{}, too many hosts to scan", cidr, min_prefix)));
  }
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  uint32_t network = *ip & mask;
  uint32_t last = network | ~mask;
  // /31 and /32 have no network and broadcast address to leave out (RFC 3021).
  if (prefix >= 31) return Ipv4Range{network, last};
  return Ipv4Range{network + 1, last - 1};
}

Result<Ipv4Range> ParseRange(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    return Fail(InvalidArgument(fmt::format("'{}' is not a range like 10.0.0.1-10.0.0.40", text)));
  }
  auto first = ParseIpv4(text.substr(0, dash));
  if (!first) return Fail(first.error());
  auto last = ParseIpv4(text.substr(dash + 1));
  if (!last) return Fail(last.error());
  if (*first > *last) return Fail(InvalidArgument(fmt::format("'{}': first after last", text)));
  if (*last - *first >= 4096) {
    return Fail(InvalidArgument(fmt::format("'{}': more than 4096 hosts", text)));
  }
  return Ipv4Range{*first, *last};
}

std::vector<LocalSubnet> LocalIpv4Subnets() {
  std::vector<LocalSubnet> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    spdlog::warn("discovery: getifaddrs failed: {}", std::strerror(errno));
    return out;
  }
  for (ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr || ifa->ifa_addr->sa_family != AF_INET) continue;
    if (!(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK)) continue;
    LocalSubnet s;
    s.interface = ifa->ifa_name;
    s.address = ntohl(reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr)->sin_addr.s_addr);
    uint32_t mask =
        ifa->ifa_netmask
            ? ntohl(reinterpret_cast<const sockaddr_in*>(ifa->ifa_netmask)->sin_addr.s_addr)
            : ~uint32_t{0};
    s.prefix = std::popcount(mask);
    if ((ifa->ifa_flags & IFF_BROADCAST) && ifa->ifa_broadaddr != nullptr) {
      s.broadcast =
          ntohl(reinterpret_cast<const sockaddr_in*>(ifa->ifa_broadaddr)->sin_addr.s_addr);
    }
    out.push_back(std::move(s));
  }
  freeifaddrs(list);
  return out;
}

std::string Device::Key() const { return fmt::format("{}:{}/{}", host, port, unit_id); }

void MergeDevices(std::vector<Device>& into, const std::vector<Device>& found) {
  for (const Device& d : found) {
    auto it =
        std::find_if(into.begin(), into.end(), [&](const Device& x) { return x.Key() == d.Key(); });
    if (it == into.end()) {
      into.push_back(d);
      continue;
    }
    it->found_by |= d.found_by;
    if (it->profile.empty() && !d.profile.empty()) {
      it->profile = d.profile;
      it->matched_by = d.matched_by;
      it->candidates = d.candidates;
    }
    if (it->serial.empty()) it->serial = d.serial;
    if (it->identity.empty()) it->identity = d.identity;
  }
}

Discoverer::Discoverer(asio::any_io_executor executor, const profiles::ProfileRegistry& profiles,
                       DiscovererOptions options)
    : executor_(std::move(executor)), profiles_(profiles), options_(std::move(options)) {}

// ---------------------------------------------------------------------------------------------
// Broadcast

asio::awaitable<std::vector<Device>> Discoverer::Broadcast() {
  std::vector<Device> out;
  auto sock = std::make_shared<udp::socket>(executor_);
  boost::system::error_code ec;
  sock->open(udp::v4(), ec);
  if (!ec) sock->set_option(asio::socket_base::broadcast(true), ec);
  if (!ec) sock->bind(udp::endpoint(udp::v4(), 0), ec);
  if (ec) {
    spdlog::warn("discovery: cannot open the query socket: {}", ec.message());
    co_return out;
  }
  std::vector<udp::endpoint> targets;
  if (options_.broadcast_interfaces) {
    for (const auto& s : LocalIpv4Subnets()) {
      if (s.broadcast == 0) continue;
      targets.emplace_back(asio::ip::address_v4(s.broadcast), options_.discovery_port);
    }
  }
  for (const auto& t : options_.query_targets) {
    auto ip = ParseIpv4(t);
    if (!ip) {
      spdlog::warn("discovery: query target skipped: {}", ip.error().message());
      continue;
    }
    targets.emplace_back(asio::ip::address_v4(*ip), options_.discovery_port);
  }
  std::random_device rd;
  Query query;
  query.nonce = (uint64_t{rd()} << 32) | rd();
  const std::string bytes = EncodeQuery(query);
  for (const auto& t : targets) {
    co_await sock->async_send_to(asio::buffer(bytes), t,
                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      spdlog::debug("discovery: query to {} failed: {}", t.address().to_string(), ec.message());
  }
  // The window ends by cancelling the receive; the handler owns the socket, not this frame.
  asio::steady_timer window(executor_);
  window.expires_after(options_.answer_window);
  window.async_wait([sock](const boost::system::error_code& e) {
    if (!e) {
      boost::system::error_code ignored;
      sock->cancel(ignored);
    }
  });
  std::string buf(kMaxDatagram + 1, '\0');
  std::set<std::string> seen;
  while (true) {
    udp::endpoint from;
    size_t n = co_await sock->async_receive_from(asio::buffer(buf.data(), buf.size()), from,
                                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) break;
    if (ec) {
      // ICMP port unreachable from a unicast target shows up here; keep listening.
      spdlog::debug("discovery: receive: {}", ec.message());
      if (std::chrono::steady_clock::now() >= window.expiry()) break;
      continue;
    }
    auto msg = DecodeDatagram(std::string_view(buf.data(), n));
    if (!msg) {
      spdlog::debug("discovery: ignored {} bytes from {}: {}", n, from.address().to_string(),
                    msg.error().message());
      continue;
    }
    const auto* answer = std::get_if<Answer>(&*msg);
    if (!answer || answer->nonce != query.nonce) {
      spdlog::debug("discovery: ignored a datagram from {} (not an answer to our query)",
                    from.address().to_string());
      continue;
    }
    uint32_t sender = from.address().is_v4() ? from.address().to_v4().to_uint() : 0;
    Device base;
    base.kind = answer->kind;
    base.identity = answer->identity.vendor;
    if (!answer->identity.model.empty()) {
      base.identity += (base.identity.empty() ? "" : " ") + answer->identity.model;
    }
    base.serial = answer->identity.serial;
    base.name = answer->identity.name;
    base.found_by = kFoundByBroadcast;
    auto add = [&](Device d) {
      if (seen.insert(d.Key()).second) out.push_back(std::move(d));
    };
    if (answer->endpoints.empty()) {
      Device d = base;
      d.host = FormatIpv4(sender);
      d.port = 0;
      d.unit_id = 0;
      add(std::move(d));
    }
    for (const Endpoint& ep : answer->endpoints) {
      std::vector<uint8_t> units = ep.unit_ids.empty() ? std::vector<uint8_t>{1} : ep.unit_ids;
      for (uint8_t unit : units) {
        Device d = base;
        d.host = FormatIpv4(ep.ipv4 != 0 ? ep.ipv4 : sender);
        d.port = ep.port;
        d.unit_id = unit;
        d.profile = ep.profile;
        d.matched_by = ep.profile.empty() ? "" : "announced";
        add(std::move(d));
      }
    }
  }
  window.cancel();
  co_return out;
}

// ---------------------------------------------------------------------------------------------
// Active scan

std::vector<Ipv4Range> Discoverer::ScanRanges() const {
  if (!options_.scan_ranges.empty()) return options_.scan_ranges;
  std::vector<Ipv4Range> out;
  auto subnets = LocalIpv4Subnets();
  std::set<uint32_t> own;
  for (const auto& s : subnets) own.insert(s.address);
  for (const auto& s : subnets) {
    auto range = ParseCidrHosts(fmt::format("{}/{}", FormatIpv4(s.address), s.prefix));
    if (!range) {
      spdlog::info("discovery: {} {}/{} not scanned: {}", s.interface, FormatIpv4(s.address),
                   s.prefix, range.error().message());
      continue;
    }
    // Split around our own addresses.
    uint32_t from = range->first;
    for (uint32_t a : own) {
      if (a < from || a > range->last) continue;
      if (a > from) out.push_back({from, a - 1});
      from = a + 1;
    }
    if (from <= range->last && from != 0) out.push_back({from, range->last});
  }
  return out;
}

namespace {

struct ScanState {
  explicit ScanState(asio::any_io_executor ex) : wake(ex) {}
  asio::steady_timer wake;  // cancelled whenever a probe finishes
  int active = 0;
  size_t done = 0;
  std::vector<Device> results;
};

asio::awaitable<void> WaitForWake(ScanState& st) {
  st.wake.expires_at(asio::steady_timer::time_point::max());
  boost::system::error_code ec;
  co_await st.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// TCP connect with a deadline. The timer's handler owns the socket so it never outlives it.
asio::awaitable<bool> TryConnect(asio::any_io_executor ex, tcp::endpoint ep,
                                 std::chrono::milliseconds timeout) {
  auto sock = std::make_shared<tcp::socket>(ex);
  asio::steady_timer timer(ex);
  timer.expires_after(timeout);
  timer.async_wait([sock](const boost::system::error_code& e) {
    if (!e) {
      boost::system::error_code ignored;
      sock->close(ignored);
    }
  });
  boost::system::error_code ec;
  co_await sock->async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
  timer.cancel();
  bool ok = !ec && sock->is_open();
  boost::system::error_code ignored;
  sock->close(ignored);
  co_return ok;
}

}  // namespace

asio::awaitable<std::vector<Device>> Discoverer::Scan(ProgressFn progress) {
  std::vector<std::pair<uint32_t, uint16_t>> targets;
  for (const auto& r : ScanRanges()) {
    for (uint64_t a = r.first; a <= r.last; ++a) {
      for (uint16_t port : options_.ports) {
        if (options_.skip && options_.skip(FormatIpv4(static_cast<uint32_t>(a)), port)) continue;
        targets.emplace_back(static_cast<uint32_t>(a), port);
      }
    }
  }
  auto st = std::make_shared<ScanState>(executor_);
  const auto interval =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::seconds(1)) /
      std::max(options_.connects_per_second, 1);
  const int max_parallel = std::max(options_.max_parallel, 1);
  asio::steady_timer pace(executor_);
  auto next = std::chrono::steady_clock::now();
  spdlog::info("discovery: scanning {} host:port pairs (at most {}/s, {} at once)", targets.size(),
               options_.connects_per_second, max_parallel);
  for (const auto& [ip, port] : targets) {
    while (st->active >= max_parallel) co_await WaitForWake(*st);
    auto now = std::chrono::steady_clock::now();
    if (next > now) {
      pace.expires_at(next);
      boost::system::error_code ec;
      co_await pace.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    } else {
      next = now;
    }
    next += interval;
    ++st->active;
    std::string host = FormatIpv4(ip);
    auto probe = [](Discoverer* self, std::shared_ptr<ScanState> st, std::string host,
                    uint16_t port, size_t total, ProgressFn progress) -> asio::awaitable<void> {
      tcp::endpoint ep(asio::ip::make_address_v4(host), port);
      if (co_await TryConnect(self->executor_, ep, self->options_.connect_timeout)) {
        spdlog::debug("discovery: {}:{} accepts connections, identifying", host, port);
        auto found = co_await self->IdentifyAll(host, port);
        for (auto& d : found) st->results.push_back(std::move(d));
      }
      ++st->done;
      --st->active;
      if (progress) progress(st->done, total);
      st->wake.cancel();
    };
    asio::co_spawn(executor_, probe(this, st, std::move(host), port, targets.size(), progress),
                   asio::detached);
  }
  while (st->active > 0) co_await WaitForWake(*st);
  std::sort(st->results.begin(), st->results.end(), [](const Device& a, const Device& b) {
    return std::tie(a.host, a.port, a.unit_id) < std::tie(b.host, b.port, b.unit_id);
  });
  co_return std::move(st->results);
}

// ---------------------------------------------------------------------------------------------
// Identification

namespace {

// Modbus access to one unit, with every register read cached (profiles share rules).
class UnitReader {
 public:
  UnitReader(modbus::TcpClient& client, uint8_t unit) : client_(client), unit_(unit) {}

  asio::awaitable<Result<std::vector<uint16_t>>> Read(uint8_t fc, uint16_t address,
                                                      uint16_t count) {
    auto key = std::make_tuple(fc, address, count);
    if (auto it = cache_.find(key); it != cache_.end()) co_return it->second;
    auto r = co_await client_.ReadRegisters(unit_, fc, address, count);
    if (r ||
        (r.error().code() != Code::kDeadlineExceeded && r.error().code() != Code::kUnavailable)) {
      answered_ = true;  // data or a Modbus exception: a Modbus device is there
    }
    cache_.emplace(key, r);
    co_return r;
  }

  // FC43/14 basic objects; empty when not supported.
  asio::awaitable<std::vector<modbus::DeviceIdObject>> DeviceObjects() {
    std::vector<modbus::DeviceIdObject> objects;
    modbus::DeviceIdRequest req;
    for (int part = 0; part < 4; ++part) {
      auto reply = co_await client_.Transact(unit_, modbus::EncodeDeviceIdRequest(req));
      if (!reply) {
        timed_out_ = reply.error().code() == Code::kDeadlineExceeded;
        break;
      }
      answered_ = true;
      auto resp = modbus::DecodeDeviceIdResponse(*reply);
      if (!resp) break;
      objects.insert(objects.end(), resp->objects.begin(), resp->objects.end());
      if (!resp->more_follows || resp->next_object_id <= req.object_id) break;
      req.object_id = resp->next_object_id;
    }
    co_return objects;
  }

  bool answered() const { return answered_; }
  bool timed_out() const { return timed_out_; }

 private:
  modbus::TcpClient& client_;
  uint8_t unit_;
  bool answered_ = false;
  bool timed_out_ = false;
  std::map<std::tuple<uint8_t, uint16_t, uint16_t>, Result<std::vector<uint16_t>>> cache_;
};

asio::awaitable<bool> RegisterRulesHold(UnitReader& reader, const Profile& p) {
  for (const auto& rule : p.register_rules) {
    auto regs = co_await reader.Read(rule.function, rule.address,
                                     static_cast<uint16_t>(modbus::RegisterCount(rule.type)));
    if (!regs || !profiles::RegisterRuleHolds(rule, *regs)) co_return false;
  }
  co_return true;
}

// True when every block of the profile's read plan reads without error.
asio::awaitable<bool> PlanReadable(UnitReader& reader, const Profile& p) {
  for (const auto& b : profiles::PlanReads(p).blocks) {
    if (!(co_await reader.Read(b.function, b.address, b.count))) co_return false;
  }
  co_return true;
}

const modbus::DeviceIdObject* FindObject(const std::vector<modbus::DeviceIdObject>& objects,
                                         uint8_t id) {
  for (const auto& o : objects) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

bool NameMatches(const Profile& p, const std::vector<modbus::DeviceIdObject>& objects) {
  const auto* vendor = FindObject(objects, profiles::kObjectVendorName);
  const auto* product = FindObject(objects, profiles::kObjectProductCode);
  return vendor && product && vendor->value == p.vendor && product->value == p.model;
}

}  // namespace

asio::awaitable<std::vector<Device>> Discoverer::Identify(std::string host, uint16_t port) {
  co_return co_await IdentifyAll(std::move(host), port);
}

asio::awaitable<std::vector<Device>> Discoverer::IdentifyAll(std::string host, uint16_t port) {
  std::vector<Device> out;
  modbus::ClientOptions copts;
  copts.connect_timeout = options_.connect_timeout;
  copts.request_timeout = options_.request_timeout;
  copts.retries = 0;
  copts.reconnect_min = std::chrono::milliseconds(10);
  copts.reconnect_max = std::chrono::milliseconds(10);
  modbus::TcpClient client(executor_, host, port, copts);
  std::vector<const Profile*> all;
  for (const auto& id : profiles_.ids()) all.push_back(profiles_.Find(id));

  for (uint8_t unit : options_.unit_ids) {
    UnitReader reader(client, unit);
    auto objects = co_await reader.DeviceObjects();
    std::vector<const Profile*> candidates;
    std::string matched_by;
    // 1. <device-id> rules (and the profile's <register> rules, when it has both).
    if (!objects.empty()) {
      for (const Profile* p : all) {
        if (profiles::MatchesDeviceId(*p, objects) && co_await RegisterRulesHold(reader, *p)) {
          candidates.push_back(p);
        }
      }
      if (!candidates.empty()) matched_by = "device-id";
    }
    // 2. <register> rules of the profiles whose <device-id> rules could not be checked.
    if (candidates.empty()) {
      for (const Profile* p : all) {
        if (p->register_rules.empty()) continue;
        if (!p->device_id_rules.empty() && !objects.empty()) continue;  // checked above
        if (co_await RegisterRulesHold(reader, *p)) candidates.push_back(p);
        if (!reader.answered()) break;  // no Modbus reply at all: stop asking
      }
      if (!candidates.empty()) matched_by = "registers";
    }
    // 3. Profiles without rules: the FC43 vendor and product code equal vendor and model.
    if (candidates.empty()) {
      for (const Profile* p : all) {
        if (NameMatches(*p, objects)) candidates.push_back(p);
      }
      if (!candidates.empty()) matched_by = "name";
    }
    if (!reader.answered()) {
      spdlog::debug("discovery: {}:{} unit {}: no Modbus reply", host, port, unit);
      continue;
    }
    // Ties: prefer the profiles whose vendor and model the device names, then those whose
    // whole read plan the device serves, then the one with the most signals.
    std::vector<std::string> all_ids;
    for (const Profile* p : candidates) all_ids.push_back(p->id);
    auto narrow = [&candidates](const std::vector<const Profile*>& keep) {
      if (!keep.empty()) candidates = keep;
    };
    if (candidates.size() > 1) {
      std::vector<const Profile*> keep;
      for (const Profile* p : candidates) {
        if (NameMatches(*p, objects)) keep.push_back(p);
      }
      narrow(keep);
    }
    if (candidates.size() > 1) {
      std::vector<const Profile*> keep;
      for (const Profile* p : candidates) {
        if (co_await PlanReadable(reader, *p)) keep.push_back(p);
      }
      narrow(keep);
      std::stable_sort(
          candidates.begin(), candidates.end(),
          [](const Profile* a, const Profile* b) { return a->signals.size() > b->signals.size(); });
    }

    Device d;
    d.host = host;
    d.port = port;
    d.unit_id = unit;
    d.found_by = kFoundByScan;
    d.kind = NodeKind::kMeter;
    for (const auto& o : objects) {
      if (o.id > profiles::kObjectRevision || o.value.empty()) continue;
      if (!d.identity.empty()) d.identity += ' ';
      d.identity += o.value;
    }
    if (!candidates.empty()) {
      const Profile* p = candidates.front();
      d.profile = p->id;
      d.matched_by = matched_by;
      if (all_ids.size() > 1) d.candidates = all_ids;
      if (d.identity.empty()) d.identity = p->DisplayName();
      auto plan = profiles::PlanIdentityReads(*p);
      std::vector<std::vector<uint16_t>> blocks;
      for (const auto& b : plan.blocks) {
        auto regs = co_await reader.Read(b.function, b.address, b.count);
        if (!regs) break;
        blocks.push_back(*regs);
      }
      if (!plan.blocks.empty() && blocks.size() == plan.blocks.size()) {
        if (auto identity = profiles::DecodeIdentity(*p, plan, blocks)) {
          if (auto it = identity->find("serial_number"); it != identity->end())
            d.serial = it->second;
        }
      }
    } else if (d.identity.empty()) {
      d.identity = "unknown Modbus device";
    }
    spdlog::debug("discovery: {}: {} ({})", d.Key(), d.profile.empty() ? "unknown" : d.profile,
                  d.identity);
    out.push_back(std::move(d));
  }
  client.Close();
  co_return out;
}

// ---------------------------------------------------------------------------------------------
// Continuous discovery

ContinuousDiscovery::ContinuousDiscovery(Discoverer& discoverer, ContinuousOptions options,
                                         ChangeFn on_change)
    : discoverer_(discoverer), options_(options), on_change_(std::move(on_change)) {}

ContinuousDiscovery::~ContinuousDiscovery() { Stop(); }

void ContinuousDiscovery::Start() {
  if (stopped_ && !*stopped_) return;
  stopped_ = std::make_shared<bool>(false);
  timer_ = std::make_unique<asio::steady_timer>(discoverer_.executor());
  asio::co_spawn(discoverer_.executor(), Loop(stopped_), asio::detached);
}

void ContinuousDiscovery::Stop() {
  if (!stopped_ || *stopped_) return;
  *stopped_ = true;
  timer_->cancel();
}

asio::awaitable<void> ContinuousDiscovery::Loop(std::shared_ptr<bool> stopped) {
  using Clock = std::chrono::steady_clock;
  auto next_broadcast = Clock::now();
  auto next_scan = Clock::now();
  const bool scanning = options_.scan_interval.count() > 0;
  const bool broadcasting = options_.broadcast_interval.count() > 0;
  if (!scanning && !broadcasting) co_return;
  // `this` is touched only while *stopped is false: Stop (and the destructor) set it first.
  while (!*stopped) {
    auto now = Clock::now();
    if (broadcasting && now >= next_broadcast) {
      auto found = co_await discoverer_.Broadcast();
      if (*stopped) co_return;
      Update(kFoundByBroadcast, found);
      next_broadcast = Clock::now() + options_.broadcast_interval;
    }
    if (scanning && Clock::now() >= next_scan) {
      auto found = co_await discoverer_.Scan();
      if (*stopped) co_return;
      Update(kFoundByScan, found);
      next_scan = Clock::now() + options_.scan_interval;
    }
    timer_->expires_at(!scanning       ? next_broadcast
                       : !broadcasting ? next_scan
                                       : std::min(next_broadcast, next_scan));
    boost::system::error_code ec;
    co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void ContinuousDiscovery::Update(uint8_t found_by, const std::vector<Device>& found) {
  std::set<std::string> keys;
  for (const Device& d : found) {
    keys.insert(d.Key());
    auto it = present_.find(d.Key());
    if (it == present_.end()) {
      present_.emplace(d.Key(), Tracked{d});
      if (on_change_) on_change_(d, true);
      continue;
    }
    std::vector<Device> merged{it->second.device};
    MergeDevices(merged, {d});
    it->second.device = merged.front();
    it->second.broadcast_misses = 0;
    it->second.scan_misses = 0;
  }
  for (auto it = present_.begin(); it != present_.end();) {
    Tracked& t = it->second;
    bool gone = false;
    if (!keys.count(it->first) && (t.device.found_by & found_by)) {
      if (found_by == kFoundByBroadcast) ++t.broadcast_misses;
      if (found_by == kFoundByScan) ++t.scan_misses;
      // Gone when every way that found it has missed it since it was last seen.
      bool broadcast_gone = !(t.device.found_by & kFoundByBroadcast) ||
                            t.broadcast_misses >= std::max(options_.broadcast_misses, 1);
      bool scan_gone = !(t.device.found_by & kFoundByScan) || t.scan_misses >= 1;
      gone = broadcast_gone && scan_gone;
    }
    if (gone) {
      Device d = t.device;
      it = present_.erase(it);
      if (on_change_) on_change_(d, false);
    } else {
      ++it;
    }
  }
}

std::vector<Device> ContinuousDiscovery::devices() const {
  std::vector<Device> out;
  for (const auto& [key, t] : present_) out.push_back(t.device);
  return out;
}

}  // namespace wattline::discovery
