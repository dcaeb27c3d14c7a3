#include "profiles/vocabulary.h"

#include <algorithm>
#include <set>
#include <string>

namespace wattline::profiles {
namespace {

std::set<std::string, std::less<>> BuildVocabulary() {
  std::set<std::string, std::less<>> v = {
      "voltage_l1_n",  "voltage_l2_n",     "voltage_l3_n", "voltage_l1_l2",
      "voltage_l2_l3", "voltage_l3_l1",    "current_l1",   "current_l2",
      "current_l3",    "current_n",        "current_sum",  "frequency",
      "serial_number", "firmware_version", "model_name",   "rotation_field",
  };
  const char* kPhases[] = {"_l1", "_l2", "_l3", "_total"};
  for (const char* quantity :
       {"active_power", "reactive_power", "apparent_power", "cos_phi", "power_factor"}) {
    for (const char* p : kPhases) v.insert(std::string(quantity) + p);
  }
  // Energies: total is the bare name ("active_energy_import"), phases add "_l1".."_l3".
  for (const char* energy : {"active_energy", "reactive_energy", "apparent_energy"}) {
    for (const char* direction : {"_import", "_export", "_total"}) {
      v.insert(std::string(energy) + direction);
      for (const char* p : {"_l1", "_l2", "_l3"}) v.insert(std::string(energy) + direction + p);
    }
  }
  for (const char* thd : {"thd_voltage", "thd_current"}) {
    for (const char* p : {"_l1", "_l2", "_l3"}) v.insert(std::string(thd) + p);
  }
  return v;
}

}  // namespace

bool IsKnownSignal(std::string_view name) {
  static const auto* vocabulary = new std::set<std::string, std::less<>>(BuildVocabulary());
  return vocabulary->find(name) != vocabulary->end();
}

bool IsIdentitySignal(std::string_view name) {
  return name == "serial_number" || name == "firmware_version" || name == "model_name";
}

}  // namespace wattline::profiles
