#pragma once
// Small file helpers shared by the lab's image, netboot and shelf code (files the lab itself
// builds in its cache and stage folders; the inventory has its own atomic writer in common/).

#include <filesystem>
#include <string>

#include "common/error.hpp"

namespace picluster::lab {

// The whole file, or "" when it cannot be read.
std::string read_text(const std::filesystem::path& path);

// Writes `text` to `path` (creating its folder), then sets `mode`; an error (write or chmod) names `path`.
Result<void> write_text(const std::filesystem::path& path, const std::string& text, std::filesystem::perms mode);

}  // namespace picluster::lab
