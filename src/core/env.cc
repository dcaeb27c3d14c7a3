#include "core/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wattline {
namespace {

Status PosixError(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFound(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDenied(std::move(msg));
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
      return ResourceExhausted(std::move(msg));
    case EIO:
      // After a failed write or fsync the kernel may have dropped the dirty pages: the bytes we
      // believed written can be gone, so the caller must treat them as lost, not retry.
      return DataLoss(std::move(msg));
    default:
      return Internal(std::move(msg));
  }
}

// Closes `fd` on scope exit; close errors on read-only descriptors carry no information.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return FailedPrecondition(path_ + ": append after close");
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("write " + path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (fd_ < 0) return FailedPrecondition(path_ + ": sync after close");
    // fdatasync suffices: the size change of an appended file is metadata that fdatasync must
    // write (it skips only mtime and the like).
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync " + path_, errno);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return FailedPrecondition(path_ + ": closed twice");
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return PosixError("close " + path_, errno);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixEnvImpl final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return Fail(PosixError("open " + path, errno));
    return std::make_unique<PosixWritableFile>(path, fd);
  }

  Result<std::string> ReadFileToString(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Fail(PosixError("open " + path, errno));
    FdCloser closer(fd);
    std::string out;
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail(PosixError("read " + path, errno));
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  Result<std::string> ReadFileRange(const std::string& path, uint64_t offset, size_t n) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Fail(PosixError("open " + path, errno));
    FdCloser closer(fd);
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Fail(PosixError("pread " + path, errno));
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Fail(PosixError("opendir " + dir, errno));
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    ::closedir(d);
    return names;
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return Fail(PosixError("stat " + path, errno));
    return static_cast<uint64_t>(st.st_size);
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink " + path, errno);
    return Status::Ok();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename " + from + " to " + to, errno);
    }
    return Status::Ok();
  }

  Status CreateDirIfMissing(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) == 0) return Status::Ok();
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::Ok();
    }
    return PosixError("mkdir " + dir, err);
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + path, errno);
    FdCloser closer(fd);
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      return PosixError("ftruncate " + path, errno);
    }
    if (::fsync(fd) != 0) return PosixError("fsync " + path, errno);
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open " + dir, errno);
    FdCloser closer(fd);
    if (::fsync(fd) != 0) return PosixError("fsync " + dir, errno);
    return Status::Ok();
  }
};

}  // namespace

Env* PosixEnv() {
  // Never destroyed: files may still be closed from static destructors of other objects.
  static Env* env = new PosixEnvImpl();
  return env;
}

}  // namespace wattline
