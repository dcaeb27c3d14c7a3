// Start-up shared by every program's main(): parse the options (printing --help or the error)
// and set up logging from --log_level.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/flags.h"

namespace wattline {

// Returns nullopt when the program should go on, otherwise the exit code to return now:
// 0 after --help, 2 after a bad option or log level (the message is on stderr).
std::optional<int> StartProgram(Options& options, int argc, char** argv, std::string_view log_name,
                                std::vector<std::string>* positional = nullptr);

}  // namespace wattline
