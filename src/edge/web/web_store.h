// What the connector's web UI persists in the data folder, each file written atomically
// (temporary file, fsync, rename, fsync of the folder), so that a power cut leaves either the
// old or the new version:
//   <data_dir>/meters.toml    the meters added in the UI ([[meter]] tables as in the config) and
//                             the ignore list (`ignored = ["tcp://10.0.0.7:502/1", ...]`)
//   <data_dir>/settings.toml  connector name, time synchronization, initial scan done
//   <data_dir>/web/password   the admin password's Argon2id hash (absent: default password)
//   <data_dir>/drivers/*.xml  uploaded drivers
// Thread-safety: free functions without shared state.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "edge/poller.h"

namespace wattline::edge::web {

// Writes `contents` to `path` atomically (see above). Errors: kInternal naming the file and the
// system error; the old file is then unchanged.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view contents);

struct MeterFile {
  std::vector<MeterConfig> meters;
  std::vector<std::string> ignored;  // endpoint ids (EndpointId) that discovery must not re-add
};

// The endpoint a meter is reached at, as used in the ignore list: "tcp://HOST:PORT/UNIT",
// "rtu-over-tcp://HOST:PORT/UNIT" or "serial://DEVICE/UNIT".
std::string EndpointId(const MeterConfig& meter);

// Reads meters.toml; a missing file is an empty MeterFile. kInvalidArgument with the line for
// bad content.
Result<MeterFile> LoadMeterFile(const std::filesystem::path& path);
// The TOML text of `file` (MeterConfigsFromToml reads it back).
std::string MeterFileToToml(const MeterFile& file);
Status SaveMeterFile(const std::filesystem::path& path, const MeterFile& file);

struct Settings {
  std::string name;                    // display name; empty: the connector id
  bool time_sync = true;               // daily clock synchronization of the meters
  std::string time_sync_at = "00:05";  // HH:MM UTC
  // The guided initial scan was finished or skipped: continuous discovery runs from the start.
  bool initial_scan_done = false;
};

// Reads settings.toml; a missing file gives the defaults. kInvalidArgument for bad content.
Result<Settings> LoadSettings(const std::filesystem::path& path);
Status SaveSettings(const std::filesystem::path& path, const Settings& settings);

// The stored password hash, nullopt when the file does not exist (default password in force).
Result<std::optional<std::string>> LoadPasswordHash(const std::filesystem::path& path);

}  // namespace wattline::edge::web
