// Logging setup: one spdlog logger per program, to stderr, with a level from config or flags.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "core/status.h"

namespace wattline {

// Sets the default logger's level and pattern. `level` is one of trace, debug, info, warn,
// error, critical, off. Returns kInvalidArgument for an unknown level name.
Status SetupLogging(std::string_view program, std::string_view level);

}  // namespace wattline
