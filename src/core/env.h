// Env: the file-system operations that storage code (the durable queue, later the historian WAL)
// uses, behind a small interface so that tests can wrap it and simulate a power cut
// (core/testing/fault_injection_env.h). Modelled on leveldb's Env.
//
// Paths are plain strings; "dir/name" is how callers join them.
// Error codes: kNotFound (no such file or directory), kPermissionDenied, kResourceExhausted
// (disk or quota full, too many open files), kDataLoss (EIO: the device may have lost data),
// kInternal (anything else). Messages carry the path and strerror.
// Thread-safety: an Env is safe to use from any thread. A WritableFile is not: one owner at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace wattline {

// A file opened for appending. Append hands bytes to the operating system (they survive a crash
// of the process, not a power cut); Sync makes them durable. Unbuffered: every Append is one
// write(2), so callers append whole records.
class WritableFile {
 public:
  virtual ~WritableFile() = default;  // closes the file if still open; never syncs

  // Writes all of `data` at the end of the file. On error part of `data` may have been written.
  virtual Status Append(std::string_view data) = 0;
  // fdatasync: every byte appended so far is durable on OK. Does not make a newly created
  // file's directory entry durable: that needs Env::SyncDir.
  virtual Status Sync() = 0;
  // Closes the file; further calls fail with kFailedPrecondition. Does not sync.
  virtual Status Close() = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Opens `path` for appending, creating it (mode 0644) if missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  // The whole content of `path`.
  virtual Result<std::string> ReadFileToString(const std::string& path) = 0;
  // Up to `n` bytes of `path` starting at `offset`; shorter only at the end of the file.
  virtual Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, size_t n) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..", in no particular order.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (rename(2)). Durable only after SyncDir of the parent.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Creates `dir` (not its parents). OK if it already exists as a directory.
  virtual Status CreateDirIfMissing(const std::string& dir) = 0;
  // Shrinks (or extends with zeros) `path` to `size` bytes and fsyncs it: durable on OK.
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // fsync of the directory itself: makes creations, renames and removals in it durable.
  virtual Status SyncDir(const std::string& dir) = 0;
};

// The POSIX file system. The returned Env lives for the whole program; never delete it.
Env* PosixEnv();

// Forwards every call to `target`; subclass it and override the calls to intercept.
// REQUIRES: `target` outlives the wrapper.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}
  Env* target() const { return target_; }

  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return target_->NewAppendableFile(path);
  }
  Result<std::string> ReadFileToString(const std::string& path) override {
    return target_->ReadFileToString(path);
  }
  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, size_t n) override {
    return target_->ReadFileRange(path, offset, n);
  }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return target_->GetChildren(dir);
  }
  bool FileExists(const std::string& path) override { return target_->FileExists(path); }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return target_->GetFileSize(path);
  }
  Status RemoveFile(const std::string& path) override { return target_->RemoveFile(path); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return target_->RenameFile(from, to);
  }
  Status CreateDirIfMissing(const std::string& dir) override {
    return target_->CreateDirIfMissing(dir);
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    return target_->TruncateFile(path, size);
  }
  Status SyncDir(const std::string& dir) override { return target_->SyncDir(dir); }

 private:
  Env* target_;
};

}  // namespace wattline
