// `wattline-edge discover`: runs the Discoverer once (or continuously) from the command line,
// printing progress to stderr and one JSON object per device to stdout.
#pragma once

#include <string>

#include "discovery/discoverer.h"

namespace wattline::discovery {

// The device as one line of JSON: host, port, unit_id, profile (null when unknown), matched_by,
// candidates, identity, serial, name, kind, found_by (["broadcast", "scan"]).
std::string DeviceJson(const Device& device, const std::string& event = "");

// The subcommand. argv[0] is "discover"; returns the exit code (0 done, 1 failure, 2 usage).
int RunDiscoverCommand(int argc, char** argv);

}  // namespace wattline::discovery
