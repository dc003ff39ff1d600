#pragma once
// Durable, atomic replacement of a small file (inventory, power holds, simulator state).

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string_view>

#include "common/error.hpp"

namespace picluster {

// Writes `text` to a hidden temp file beside `path` (".<name>.tmp.<pid>"), fsyncs it, renames
// it over `path` and fsyncs the folder: a crash leaves the old file or the new one, never a mix.
// `mode` is the new file's mode; without it an existing file keeps its mode (new files: 0644).
// Errors name `path` (the temp file is an implementation detail) and leave no temp file behind.
Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view text,
                                   std::optional<mode_t> mode = std::nullopt);

}  // namespace picluster
