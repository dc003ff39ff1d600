#include "lab/switchsim/json_file.hpp"

#include <fstream>
#include <sstream>

#include "common/json.hpp"

namespace picluster::switchsim {

Result<nlohmann::json> read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::io, path.string() + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  auto j = parse_json<nlohmann::json>(content);
  if (!j) {
    return fail(ErrorCode::invalid_argument, path.string() + ": " + json_position(content, j.error().byte) +
                                                 ": " + j.error().message);
  }
  return std::move(*j);
}

}  // namespace picluster::switchsim
