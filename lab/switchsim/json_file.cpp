#include "lab/switchsim/json_file.hpp"

#include <fstream>
#include <sstream>

namespace picluster::switchsim {

Result<nlohmann::json> read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::io, path.string() + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    return fail(ErrorCode::invalid_argument,
                path.string() + ": JSON parse error at byte " + std::to_string(e.byte));
  }
}

}  // namespace picluster::switchsim
