// FaultInjectionEnv: an Env for crash tests. It forwards to a real Env (normally PosixEnv()) and
// remembers what a power cut would keep; DropUnsyncedData() then makes the files look as they
// would after the machine lost power at that instant.
//
// The model (strict POSIX, kept simple; modelled on leveldb's db/fault_injection_test.cc):
//   - A file's bytes are durable up to the size it had at its last WritableFile::Sync() or
//     Env::TruncateFile(). Files this Env never wrote to count as fully durable.
//   - A file created through this Env is durable as a name only after SyncDir() of its directory;
//     until then a power cut removes it, even if its content was synced (POSIX does not promise
//     that fsync of a file persists its directory entry).
//   - RenameFile moves the state (and the "not yet in the directory" mark) to the new name.
//     RemoveFile and RenameFile themselves count as durable at once: code under test must
//     tolerate a removed file coming back, which this model does not exercise.
//   - DropUnsyncedData(): truncates every written file to its durable size, removes the files
//     whose creation was not made durable, then forgets all state (what remains is durable).
//     REQUIRES: no WritableFile from this Env is still in use (close the code under test first).
// Thread-safety: safe to use from any thread (one mutex).
// Namespace `wattline::test`, not `testing`: that would hide GoogleTest's `testing` inside
// wattline.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "core/env.h"

namespace wattline::test {

class FaultInjectionEnv : public EnvWrapper {
 public:
  explicit FaultInjectionEnv(Env* target = PosixEnv()) : EnvWrapper(target) {}

  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;

  // Simulates a power cut (see the model above). Returns the first error from the target Env.
  Status DropUnsyncedData();

  // Called by the files this Env hands out.
  void OnAppend(const std::string& path, uint64_t bytes);
  void OnSync(const std::string& path);

 private:
  struct FileState {
    uint64_t size = 0;    // bytes written so far
    uint64_t synced = 0;  // bytes durable
  };

  std::mutex mu_;
  std::map<std::string, FileState> files_;
  std::set<std::string> created_since_dir_sync_;
};

}  // namespace wattline::test
