// ProfileRegistry: the driver profiles known to a program, keyed by profile id (file name
// without ".xml", e.g. "janitza-umg96rm-e").
// Thread-safety: fill (LoadDirectory/Add) before sharing; afterwards Find/ids are safe from any
// thread. Pointers returned by Find stay valid as long as the registry lives and no Add follows.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "profiles/profile.h"

namespace wattline::profiles {

class ProfileRegistry {
 public:
  // Loads every *.xml file in `dir` (not recursive). Stops at the first bad file and returns
  // its error (kInvalidArgument with file and line); kNotFound when `dir` is not a directory;
  // kAlreadyExists for a duplicate id.
  Status LoadDirectory(const std::filesystem::path& dir);

  // Adds a parsed profile. kAlreadyExists when its id is taken, kInvalidArgument for an empty id.
  Status Add(Profile profile);

  // The profile with `id`, or nullptr.
  const Profile* Find(std::string_view id) const;

  std::vector<std::string> ids() const;
  size_t size() const { return profiles_.size(); }

 private:
  std::map<std::string, Profile, std::less<>> profiles_;
};

}  // namespace wattline::profiles
