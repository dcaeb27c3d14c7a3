#include "edge/web/web_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace wattline::edge::web {
namespace fs = std::filesystem;

namespace {

Status SysError(const std::string& what, const fs::path& path) {
  return Internal(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

const char* ParityName(modbus::Parity p) {
  switch (p) {
    case modbus::Parity::kNone:
      return "N";
    case modbus::Parity::kOdd:
      return "O";
    default:
      return "E";
  }
}

Result<toml::table> ParseToml(const fs::path& path, bool* missing) {
  std::error_code ec;
  *missing = !fs::exists(path, ec);
  if (*missing) return toml::table{};
  try {
    return toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    return Fail(InvalidArgument(
        fmt::format("{} line {}: {}", path.string(), e.source().begin.line, e.description())));
  }
}

}  // namespace

Status WriteFileAtomically(const fs::path& path, std::string_view contents) {
  const fs::path tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SysError("cannot create", tmp);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = SysError("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = SysError("cannot sync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = SysError("cannot rename to", path);
    ::unlink(tmp.c_str());
    return s;
  }
  // The rename is only durable once the folder's entry is on disk.
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return SysError("cannot open folder", dir);
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return SysError("cannot sync folder", dir);
  return Status::Ok();
}

std::string EndpointId(const MeterConfig& m) {
  if (m.transport == Transport::kSerial)
    return fmt::format("serial://{}/{}", m.serial.device, m.unit_id);
  return fmt::format("{}://{}:{}/{}", TransportName(m.transport), m.host, m.port, m.unit_id);
}

Result<MeterFile> LoadMeterFile(const fs::path& path) {
  bool missing = false;
  auto table = ParseToml(path, &missing);
  if (!table) return Fail(table.error());
  MeterFile out;
  if (missing) return out;
  auto meters = MeterConfigsFromToml(*table);
  if (!meters) return Fail(InvalidArgument(path.string() + ": " + meters.error().message()));
  out.meters = std::move(*meters);
  if (const toml::node* n = table->get("ignored")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return Fail(InvalidArgument(path.string() + ": 'ignored' must be a list"));
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) return Fail(InvalidArgument(path.string() + ": 'ignored' must list strings"));
      out.ignored.push_back(*s);
    }
  }
  return out;
}

std::string MeterFileToToml(const MeterFile& file) {
  toml::table root;
  toml::array ignored;
  for (const auto& id : file.ignored) ignored.push_back(id);
  root.insert("ignored", std::move(ignored));
  toml::array meters;
  for (const auto& m : file.meters) {
    toml::table t;
    t.insert("key", m.key);
    t.insert("profile", m.profile);
    t.insert("transport", std::string(TransportName(m.transport)));
    if (m.transport == Transport::kSerial) {
      t.insert("serial_port", m.serial.device);
    } else {
      t.insert("host", m.host);
      t.insert("port", int64_t{m.port});
    }
    if (m.transport != Transport::kTcp) {
      t.insert("baud", int64_t{m.serial.baud});
      t.insert("parity", ParityName(m.serial.parity));
      t.insert("stop_bits", int64_t{m.serial.stop_bits});
    }
    t.insert("unit_id", int64_t{m.unit_id});
    t.insert("cycle_ms", static_cast<int64_t>(m.cycle.count()));
    if (m.pause_between_requests.count() > 0) {
      t.insert("pause_ms", static_cast<int64_t>(m.pause_between_requests.count()));
    }
    meters.push_back(std::move(t));
  }
  root.insert("meter", std::move(meters));
  std::ostringstream out;
  out << "# Meters added in the connector's web UI. Written by wattline-edge.\n" << root << "\n";
  return out.str();
}

Status SaveMeterFile(const fs::path& path, const MeterFile& file) {
  return WriteFileAtomically(path, MeterFileToToml(file));
}

Result<Settings> LoadSettings(const fs::path& path) {
  bool missing = false;
  auto table = ParseToml(path, &missing);
  if (!table) return Fail(table.error());
  Settings s;
  s.name = (*table)["name"].value_or(s.name);
  s.time_sync = (*table)["time_sync"].value_or(s.time_sync);
  s.time_sync_at = (*table)["time_sync_at"].value_or(s.time_sync_at);
  s.initial_scan_done = (*table)["initial_scan_done"].value_or(s.initial_scan_done);
  return s;
}

Status SaveSettings(const fs::path& path, const Settings& s) {
  toml::table root;
  root.insert("name", s.name);
  root.insert("time_sync", s.time_sync);
  root.insert("time_sync_at", s.time_sync_at);
  root.insert("initial_scan_done", s.initial_scan_done);
  std::ostringstream out;
  out << root << "\n";
  return WriteFileAtomically(path, out.str());
}

Result<std::optional<std::string>> LoadPasswordHash(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<std::string>();
  std::ifstream in(path);
  std::string hash;
  if (!in || !std::getline(in, hash) || hash.rfind("$argon2id$", 0) != 0) {
    return Fail(DataLoss("password file " + path.string() +
                         " is unreadable or damaged; delete it to restore the default password"));
  }
  return std::optional<std::string>(hash);
}

}  // namespace wattline::edge::web
