#include "profiles/profile_registry.h"

#include <fmt/format.h>

#include <algorithm>

namespace wattline::profiles {

Status ProfileRegistry::LoadDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFound(fmt::format("profile directory {} does not exist", dir.string()));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".xml")
      files.push_back(entry.path());
  }
  if (ec) return Unavailable(fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());  // deterministic errors
  for (const auto& f : files) {
    auto profile = LoadProfile(f);
    if (!profile) return profile.error();
    if (Status s = Add(std::move(*profile)); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ProfileRegistry::Add(Profile profile) {
  if (profile.id.empty()) return InvalidArgument("profile without id");
  if (profiles_.count(profile.id)) {
    return Status(Code::kAlreadyExists, fmt::format("duplicate profile id '{}'", profile.id));
  }
  std::string id = profile.id;
  profiles_.emplace(std::move(id), std::move(profile));
  return Status::Ok();
}

const Profile* ProfileRegistry::Find(std::string_view id) const {
  auto it = profiles_.find(id);
  return it == profiles_.end() ? nullptr : &it->second;
}

std::vector<std::string> ProfileRegistry::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, p] : profiles_) out.push_back(id);
  return out;
}

}  // namespace wattline::profiles
