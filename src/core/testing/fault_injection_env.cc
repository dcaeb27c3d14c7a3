#include "core/testing/fault_injection_env.h"

#include <vector>

namespace wattline::test {
namespace {

std::string ParentDir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string StripTrailingSlashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

class FaultInjectionFile final : public WritableFile {
 public:
  FaultInjectionFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> f)
      : env_(env), path_(std::move(path)), file_(std::move(f)) {}

  Status Append(std::string_view data) override {
    Status s = file_->Append(data);
    // Count the bytes even on error: a partial write leaves unsynced bytes behind too.
    env_->OnAppend(path_, data.size());
    return s;
  }
  Status Sync() override {
    Status s = file_->Sync();
    if (s.ok()) env_->OnSync(path_);
    return s;
  }
  Status Close() override { return file_->Close(); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> file_;
};

}  // namespace

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  bool existed = target()->FileExists(path);
  uint64_t size = 0;
  if (existed) {
    auto sz = target()->GetFileSize(path);
    if (!sz) return Fail(sz.error());
    size = *sz;
  }
  auto file = target()->NewAppendableFile(path);
  if (!file) return file;
  {
    std::lock_guard lock(mu_);
    if (!files_.contains(path)) files_[path] = FileState{size, size};
    if (!existed) created_since_dir_sync_.insert(path);
  }
  return std::make_unique<FaultInjectionFile>(this, path, std::move(*file));
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  Status s = target()->RemoveFile(path);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    files_.erase(path);
    created_since_dir_sync_.erase(path);
  }
  return s;
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  Status s = target()->RenameFile(from, to);
  if (!s.ok()) return s;
  std::lock_guard lock(mu_);
  files_.erase(to);
  created_since_dir_sync_.erase(to);
  if (auto it = files_.find(from); it != files_.end()) {
    files_[to] = it->second;
    files_.erase(it);
  }
  if (created_since_dir_sync_.erase(from) > 0) created_since_dir_sync_.insert(to);
  return s;
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  Status s = target()->TruncateFile(path, size);
  if (s.ok()) {
    std::lock_guard lock(mu_);
    files_[path] = FileState{size, size};  // TruncateFile syncs
  }
  return s;
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  Status s = target()->SyncDir(dir);
  if (!s.ok()) return s;
  std::string d = StripTrailingSlashes(dir);
  std::lock_guard lock(mu_);
  for (auto it = created_since_dir_sync_.begin(); it != created_since_dir_sync_.end();) {
    it = ParentDir(*it) == d ? created_since_dir_sync_.erase(it) : std::next(it);
  }
  return s;
}

void FaultInjectionEnv::OnAppend(const std::string& path, uint64_t bytes) {
  std::lock_guard lock(mu_);
  files_[path].size += bytes;
}

void FaultInjectionEnv::OnSync(const std::string& path) {
  std::lock_guard lock(mu_);
  auto& f = files_[path];
  f.synced = f.size;
}

Status FaultInjectionEnv::DropUnsyncedData() {
  std::lock_guard lock(mu_);
  Status first;
  auto note = [&first](Status s) {
    if (first.ok() && !s.ok()) first = std::move(s);
  };
  for (const auto& path : created_since_dir_sync_) {
    if (target()->FileExists(path)) note(target()->RemoveFile(path));
    files_.erase(path);
  }
  for (const auto& [path, state] : files_) {
    if (state.synced < state.size && target()->FileExists(path)) {
      note(target()->TruncateFile(path, state.synced));
    }
  }
  files_.clear();
  created_since_dir_sync_.clear();
  return first;
}

}  // namespace wattline::test
