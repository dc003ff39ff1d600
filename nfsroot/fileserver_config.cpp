#include "nfsroot/fileserver_config.hpp"

#include <set>

#include "common/text.hpp"
#include "nfsroot/install.hpp"

namespace picluster::nfsroot {

namespace {

std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> words;
  for (auto& w : split(line, ' ')) {
    for (auto& v : split(w, '\t')) {
      if (!v.empty()) words.push_back(v);
    }
  }
  return words;
}

bool is_stanza_start(const std::string& word) {
  return word == "auto" || word == "iface" || word == "mapping" || word == "source" ||
         word == "source-directory" || word.starts_with("allow-");
}

}  // namespace

std::map<std::string, std::string> parse_ifupdown_stanzas(std::string_view text) {
  std::map<std::string, std::string> stanzas;
  std::string current;  // interface whose iface block we are in, "" outside one
  for (const auto& line : split(text, '\n')) {
    const auto words = words_of(line);
    if (words.empty() || words[0].starts_with('#')) continue;
    if (is_stanza_start(words[0])) {
      current.clear();
      if (words[0] == "iface" && words.size() > 1) {
        current = words[1];
        stanzas[current] += line + "\n";
      } else if (words[0] == "auto" || words[0].starts_with("allow-")) {
        for (std::size_t i = 1; i < words.size(); ++i) stanzas[words[i]] += words[0] + "\n";
      }
      continue;
    }
    if (!current.empty()) stanzas[current] += line + "\n";
  }
  return stanzas;
}

FileserverConfigurator::FileserverConfigurator(Host& host, const inventory::Fileserver& fileserver)
    : m_host(host), m_layout(fileserver) {}

namespace {

Action run_action(std::vector<std::string> argv, std::string step) {
  Action a;
  a.kind = ActionKind::run;
  a.step = std::move(step);
  a.argv = std::move(argv);
  a.live = true;
  return a;
}

struct Phases {
  Plan down, write, up, reload;
  std::set<std::vector<std::string>> reloads_seen;
  void reload_once(std::vector<std::string> argv) {
    if (reloads_seen.insert(argv).second) reload.push_back(run_action(std::move(argv), "reload"));
  }
};

void plan_interfaces(const std::string& old_text, const std::string& new_text, Phases& ph) {
  const auto before = parse_ifupdown_stanzas(old_text);
  const auto after = parse_ifupdown_stanzas(new_text);
  for (const auto& [name, stanza] : before) {
    const auto it = after.find(name);
    if (it == after.end() || it->second != stanza) ph.down.push_back(run_action({"ifdown", name}, "ifdown"));
  }
  for (const auto& [name, stanza] : after) {
    const auto it = before.find(name);
    if (it == before.end() || it->second != stanza) ph.up.push_back(run_action({"ifup", name}, "ifup"));
  }
}

// The follow-up that makes a changed file take effect.
void plan_follow_up(const RenderedFile& file, const std::string& target, const std::string& old_text,
                    Phases& ph) {
  const std::string& p = file.path;
  if (p.starts_with("etc/network/interfaces")) return plan_interfaces(old_text, file.contents, ph);
  if (p.starts_with("etc/systemd/network/")) return ph.reload_once({"networkctl", "reload"});
  if (p.starts_with("etc/exports")) return ph.reload_once({"exportfs", "-ra"});
  if (p.starts_with("etc/sysctl.d/")) return ph.reload_once({"sysctl", "--system"});
  if (p.starts_with("etc/nftables.d/") || p.ends_with(".nft")) return ph.reload_once({"nft", "-f", target});
  if (p.starts_with("etc/dnsmasq.d/")) return ph.reload_once({"systemctl", "restart", "dnsmasq"});
}

}  // namespace

std::vector<PathRead> FileserverConfigurator::reads(const std::vector<RenderedFile>& files) const {
  std::vector<PathRead> out;
  for (const auto& file : files) {
    if (!validate_relative_path(file.path)) continue;  // plan() reports it
    const std::string target = m_layout.host_path("/" + file.path);
    out.push_back({target, true});
    out.push_back({target.substr(0, target.rfind('/')), false});
  }
  return out;
}

Result<Plan> FileserverConfigurator::plan(const std::vector<RenderedFile>& files) {
  for (const auto& file : files) {
    if (auto v = validate_relative_path(file.path); !v) return std::unexpected(v.error());
  }
  auto snapshot = m_host.read_paths(reads(files));
  if (!snapshot) return std::unexpected(snapshot.error());
  return plan(files, *snapshot);
}

Result<Plan> FileserverConfigurator::plan(const std::vector<RenderedFile>& files,
                                          const PathSnapshot& snapshot) {
  Phases ph;
  std::set<std::string> folders;
  const auto facts = [&snapshot](const std::string& path) {
    const auto it = snapshot.find(path);
    return it == snapshot.end() ? PathFacts{} : it->second;
  };
  for (const auto& file : files) {
    if (auto v = validate_relative_path(file.path); !v) return std::unexpected(v.error());
    const std::string target = m_layout.host_path("/" + file.path);
    const PathFacts installed = facts(target);
    std::string old_text;
    std::optional<std::string> previous;
    if (installed.stat.type == FileType::regular) {
      if (!installed.contents) return fail(ErrorCode::internal, "plan: " + target + " was not read");
      old_text = *installed.contents;
      if (old_text == file.contents && installed.stat.mode == (file.mode & 07777U)) continue;
      previous = old_text;
    } else if (installed.stat.type != FileType::none) {
      return fail(ErrorCode::refused, target + " exists and is not a regular file; move it aside");
    }
    const std::string folder = target.substr(0, target.rfind('/'));
    if (facts(folder).stat.type == FileType::none && folders.insert(folder).second) {
      Action mk;
      mk.kind = ActionKind::make_dirs;
      mk.step = "write";
      mk.path = folder;
      ph.write.push_back(mk);
    }
    Action w;
    w.kind = ActionKind::write_file;
    w.step = "write";
    w.path = target;
    w.contents = file.contents;
    w.mode = file.mode;
    w.previous = std::move(previous);
    w.previous_mode = installed.stat.mode;
    ph.write.push_back(w);
    plan_follow_up(file, target, old_text, ph);
  }
  Plan out;
  for (Plan* part : {&ph.down, &ph.write, &ph.up, &ph.reload}) {
    out.insert(out.end(), part->begin(), part->end());
  }
  return out;
}

Result<void> FileserverConfigurator::apply(const Plan& plan, const ExecOptions& options) {
  ExecOptions o = options;
  o.prefixed = m_layout.prefixed();
  return with_context(execute(m_host, plan, o), "fileserver apply");
}

Result<FileserverState> FileserverConfigurator::inspect(const std::vector<RenderedFile>& files) {
  auto snapshot = m_host.read_paths(reads(files));
  if (!snapshot) return std::unexpected(snapshot.error());
  return inspect(files, *snapshot);
}

namespace {

// `ip -br link` lines -> interface name (without "@parent") -> state.
std::map<std::string, std::string> link_states(std::string_view text) {
  std::map<std::string, std::string> out;
  for (const auto& line : split(text, '\n')) {
    const auto words = words_of(line);
    if (words.size() < 2) continue;
    out[words[0].substr(0, words[0].find('@'))] = words[1];
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> FileserverConfigurator::inspect_links() const {
  if (m_layout.prefixed()) return std::nullopt;
  return std::vector<std::string>{"ip", "-br", "link"};
}

Result<FileserverState> FileserverConfigurator::inspect(const std::vector<RenderedFile>& files,
                                                        const PathSnapshot& snapshot) {
  return inspect(files, snapshot, nullptr);
}

Result<FileserverState> FileserverConfigurator::inspect(const std::vector<RenderedFile>& files,
                                                        const PathSnapshot& snapshot, const CommandResult* given) {
  FileserverState state;
  std::optional<std::map<std::string, std::string>> links;  // read once, when needed
  for (const auto& file : files) {
    const bool interfaces = file.path.starts_with("etc/network/interfaces");
    const bool exports = file.path.starts_with("etc/exports");
    if (!interfaces && !exports) continue;
    const auto it = snapshot.find(m_layout.host_path("/" + file.path));
    if (it == snapshot.end() || !it->second.contents) continue;
    const std::string& text = *it->second.contents;
    if (exports) {
      for (const auto& line : split(text, '\n')) {
        const auto words = words_of(line);
        if (words.empty() || words[0].starts_with('#')) continue;
        const auto rest = line.find(words[0]) + words[0].size();
        state.exports.push_back({words[0], words_of(line.substr(rest)).empty() ? "" : line.substr(line.find_first_not_of(" \t", rest))});
      }
      continue;
    }
    for (const auto& [name, stanza] : parse_ifupdown_stanzas(text)) {
      VlanInterface vi{name, "", ""};
      for (const auto& line : split(stanza, '\n')) {
        const auto words = words_of(line);
        if (words.size() >= 2 && words[0] == "address") vi.address = words[1];
      }
      if (!m_layout.prefixed()) {
        if (!links && given != nullptr) {
          links = given->exit_status == 0 ? link_states(given->out) : std::map<std::string, std::string>{};
        } else if (!links) {
          auto ip = m_host.run(*inspect_links());
          links = ip && ip->exit_status == 0 ? link_states(ip->out) : std::map<std::string, std::string>{};
        }
        const auto found = links->find(name);
        vi.state = found == links->end() ? "missing" : found->second;
      }
      state.interfaces.push_back(vi);
    }
  }
  return state;
}

}  // namespace picluster::nfsroot
