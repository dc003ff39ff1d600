#pragma once
// Where the workplace's shared test data lives: the `shared/` folder beside the repository
// (as CI lays it out), else /work/shared.

#include <filesystem>

namespace picluster::testing {

inline std::filesystem::path shared_dir() {
  const std::filesystem::path beside = std::filesystem::path(PICLUSTER_SOURCE_DIR).parent_path() / "shared";
  if (std::filesystem::exists(beside / "snmp-recordings")) return beside;
  return "/work/shared";
}

inline std::filesystem::path snmp_recordings_dir() { return shared_dir() / "snmp-recordings"; }

}  // namespace picluster::testing
