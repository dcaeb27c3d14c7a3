// `wattline-edge discover`: runs the Discoverer once (or continuously) from the command line,
// printing progress to stderr and one JSON object per device to stdout.
#pragma once

#include <string>
#include <vector>

#include "core/flags.h"
#include "discovery/discoverer.h"

namespace wattline::discovery {

// The device as one line of JSON: host, port, unit_id, profile (null when unknown), matched_by,
// candidates, identity, serial, name, kind, found_by (["broadcast", "scan"]).
std::string DeviceJson(const Device& device, const std::string& event = "");

struct DiscoveryFlags {
  DiscovererOptions discoverer;
  ContinuousOptions continuous;
};
// The flags that `wattline-edge discover` and the connector share, named prefix + targets,
// interfaces, ports, unit_ids, timeout_ms, window_ms, discovery_port, rate, parallel,
// broadcast_interval_s and scan_interval_s (the connector uses the prefix "discovery.").
void AddDiscoveryFlags(Options& options, const std::string& prefix, int scan_interval_s);
// Reads them; `scan` lists what to scan: subnets ("10.0.0.0/24", /22 or smaller) and ranges
// ("10.0.0.1-10.0.0.40"), empty = the local subnets. kInvalidArgument naming the flag.
Result<DiscoveryFlags> ReadDiscoveryFlags(const Options& options, const std::string& prefix,
                                          const std::vector<std::string>& scan);

// The subcommand. argv[0] is "discover"; returns the exit code (0 done, 1 failure, 2 usage).
int RunDiscoverCommand(int argc, char** argv);

}  // namespace wattline::discovery
