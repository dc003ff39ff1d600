#pragma once
// Reads a whole JSON file (the simulator's knobs and state files). Errors name the file: "cannot
// open", or the byte where parsing failed.

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace picluster::switchsim {

Result<nlohmann::json> read_json_file(const std::filesystem::path& path);

}  // namespace picluster::switchsim
