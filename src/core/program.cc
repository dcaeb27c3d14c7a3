#include "core/program.h"

#include <iostream>

#include "core/log.h"

namespace wattline {

std::optional<int> StartProgram(Options& options, int argc, char** argv, std::string_view log_name,
                                std::vector<std::string>* positional) {
  Status st = options.Parse(argc, argv, positional);
  if (st.code() == Code::kCancelled) return 0;  // --help was printed
  if (st.ok()) st = SetupLogging(log_name, options.Get("log_level"));
  if (!st.ok()) {
    std::cerr << options.program() << ": " << st.message() << "\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace wattline
