// PeerProcess: a peer program started for one test (posix_spawn), whose stdout is read for a
// readiness line, and which is stopped by its PID (SIGTERM, then waitpid) when destroyed.
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

extern char** environ;

namespace wattline::testing {

class PeerProcess {
 public:
  // Starts argv[0] with `argv` and waits up to `wait` for a line on stdout starting with
  // `ready_prefix`; ready_line() holds it (empty on failure).
  PeerProcess(std::vector<std::string> argv, const std::string& ready_prefix,
              std::chrono::milliseconds wait = std::chrono::seconds(15)) {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline &&
           out.find('\n') == std::string::npos) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[128];
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    if (out.rfind(ready_prefix, 0) == 0) ready_line_ = out.substr(0, out.find('\n'));
  }
  ~PeerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
    }
  }
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  const std::string& ready_line() const { return ready_line_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string ready_line_;
};

// Runs `argv` to completion and returns (exit status, stdout).
inline std::pair<int, std::string> RunProgram(std::vector<std::string> argv) {
  int fds[2];
  if (pipe(fds) != 0) return {-1, ""};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  std::string out;
  if (rc == 0) {
    char buf[512];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = -1;
  if (rc == 0) waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace wattline::testing
