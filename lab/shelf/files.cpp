#include "lab/shelf/files.hpp"

#include <fstream>
#include <sstream>

namespace picluster::lab {
namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<void> write_text(const fs::path& path, const std::string& text, fs::perms mode) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return fail(ErrorCode::io, "write " + path.string());
  fs::permissions(path, mode, ec);
  if (ec) return fail(ErrorCode::io, "chmod " + path.string() + ": " + ec.message());
  return {};
}

}  // namespace picluster::lab
