#include "orchestrator/power_hold.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/file.hpp"
#include "common/json.hpp"
#include "common/text.hpp"
#include "inventory/inventory.hpp"
#include "orchestrator/journal.hpp"

namespace picluster::orchestrator {
namespace {

using inventory::Json;

Result<PowerHold> parse_hold(const Json& j, const std::string& where) {
  if (!j.is_object()) return fail(ErrorCode::io, where + ": expected an object");
  PowerHold hold;
  for (const auto& [key, value] : j.items()) {
    std::string* field = key == "since" ? &hold.since : key == "user" ? &hold.user : key == "reason" ? &hold.reason : nullptr;
    if (field == nullptr) return fail(ErrorCode::io, where + ": unknown key " + printable(key));
    if (!value.is_string()) return fail(ErrorCode::io, where + "." + key + ": expected a string");
    *field = value.get<std::string>();
  }
  if (hold.since.empty()) return fail(ErrorCode::io, where + ".since: missing");
  if (hold.user.empty()) return fail(ErrorCode::io, where + ".user: missing");
  return hold;
}

Result<std::map<std::string, PowerHold>> parse_text(const std::string& text) {
  auto parsed = parse_json<Json>(text);
  if (!parsed) {
    const std::string what = printable(parsed.error().message);  // quoted: "..."
    return fail(ErrorCode::io, json_position(text, parsed.error().byte) + ": not valid JSON (" +
                                   what.substr(1, what.size() - 2) + ")");
  }
  const Json& j = *parsed;
  if (!j.is_object() || !j.contains("holds") || !j["holds"].is_object()) {
    return fail(ErrorCode::io, "expected {\"holds\": {NAME: {\"since\", \"user\", \"reason\"}}}");
  }
  std::map<std::string, PowerHold> out;
  for (const auto& [pi, value] : j["holds"].items()) {
    auto hold = parse_hold(value, "holds." + pi);
    if (!hold) return std::unexpected(hold.error());
    out[pi] = *hold;
  }
  return out;
}

}  // namespace

Result<std::map<std::string, PowerHold>> parse_holds(const std::string& text) { return parse_text(text); }

std::string describe(const PowerHold& hold) {
  return "held off since " + hold.since + " by " + hold.user + (hold.reason.empty() ? "" : " (" + hold.reason + ")");
}

PowerHolds::PowerHolds(std::filesystem::path state_dir, const std::string& shelf)
    : m_dir(std::move(state_dir)), m_path(m_dir / (shelf + ".holds.json")) {}

Result<std::map<std::string, PowerHold>> PowerHolds::read() const {
  std::error_code ec;
  if (!std::filesystem::exists(m_path, ec) && !ec) return std::map<std::string, PowerHold>{};
  std::ifstream in(m_path);
  if (!in) return fail(ErrorCode::io, m_path.string() + ": cannot read: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  auto holds = parse_holds(text.str());
  if (!holds) {
    return fail(ErrorCode::io, m_path.string() + ": " + holds.error().message +
                                   " (the power holds of `picluster power off`; fix the file, or delete it to "
                                   "release every hold)");
  }
  return holds;
}

Result<std::optional<PowerHold>> PowerHolds::find(const std::string& pi) const {
  auto holds = read();
  if (!holds) return std::unexpected(holds.error());
  const auto it = holds->find(pi);
  if (it == holds->end()) return std::optional<PowerHold>{};
  return std::optional<PowerHold>(it->second);
}

Result<PowerHold> PowerHolds::hold(const std::string& pi, PowerHold hold) const {
  auto holds = read();
  if (!holds) return std::unexpected(holds.error());
  if (hold.since.empty()) hold.since = now_utc();
  if (hold.user.empty()) hold.user = current_user();
  (*holds)[pi] = hold;
  if (auto ok = write(*holds); !ok) return std::unexpected(ok.error());
  return hold;
}

Result<std::optional<PowerHold>> PowerHolds::release(const std::string& pi) const {
  auto holds = read();
  if (!holds) return std::unexpected(holds.error());
  const auto it = holds->find(pi);
  if (it == holds->end()) return std::optional<PowerHold>{};
  std::optional<PowerHold> was = it->second;
  holds->erase(it);
  if (auto ok = write(*holds); !ok) return std::unexpected(ok.error());
  return was;
}

Result<void> PowerHolds::write(const std::map<std::string, PowerHold>& holds) const {
  std::error_code ec;
  std::filesystem::create_directories(m_dir, ec);
  if (ec) return fail(ErrorCode::io, m_dir.string() + ": cannot create state folder: " + ec.message());
  Json list = Json::object();
  for (const auto& [pi, h] : holds) list[pi] = Json{{"since", h.since}, {"user", h.user}, {"reason", h.reason}};
  const std::string text = dump_json(Json{{"holds", list}}, 2) + "\n";
  return write_file_atomically(m_path, text, 0644);
}

}  // namespace picluster::orchestrator
