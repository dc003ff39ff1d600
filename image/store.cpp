#include "image/store.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "common/text.hpp"
#include "nfsroot/actions.hpp"
#include "nfsroot/clone.hpp"
#include "nfsroot/install.hpp"
#include "nfsroot/layout.hpp"

namespace picluster::image {

namespace {

std::optional<int> version_number(std::string_view entry) {
  if (entry.empty() || entry.size() > 6 || entry.front() == '0') return std::nullopt;
  int n = 0;
  for (char c : entry) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string method_name(inventory::CloneMethod method) {
  switch (method) {
    case inventory::CloneMethod::btrfs_snapshot: return "btrfs snapshot";
    case inventory::CloneMethod::reflink: return "reflink copy";
    default: return "plain copy";
  }
}

std::string text_of(const Json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

}  // namespace

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Json to_json(const ImageMeta& m) {
  Json j;
  j["name"] = m.name;
  j["version"] = m.version;
  j["arch"] = m.arch;
  j["created"] = m.created;
  j["source"] = m.source;
  j["from"] = m.from;
  j["method"] = m.method;
  j["kernel"] = m.kernel;
  j["recipe"] = m.recipe;
  return j;
}

Result<ImageMeta> meta_from_json(std::string_view text, const std::string& where) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(ErrorCode::io, where + ": not a JSON object");
  ImageMeta m;
  m.name = text_of(j, "name");
  if (j.contains("version") && j["version"].is_number_integer()) m.version = j["version"].get<int>();
  m.arch = text_of(j, "arch");
  m.created = text_of(j, "created");
  m.source = text_of(j, "source");
  m.from = text_of(j, "from");
  m.method = text_of(j, "method");
  m.kernel = text_of(j, "kernel");
  if (j.contains("recipe")) m.recipe = j["recipe"];
  return m;
}

Store::Store(Host& host, const inventory::Fileserver& fileserver)
    : m_host(host), m_path(nfsroot::Layout(fileserver).host_path(inventory::image_store_of(fileserver))) {
  while (m_path.size() > 1 && m_path.back() == '/') m_path.pop_back();
}

std::string Store::name_dir(std::string_view name) const { return m_path + "/" + std::string(name); }
std::string Store::version_dir(std::string_view name, int version) const {
  return name_dir(name) + "/" + std::to_string(version);
}
std::string Store::root_of(std::string_view name, int version) const {
  return version_dir(name, version) + "/root";
}

Result<std::vector<std::string>> Store::names() {
  auto entries = m_host.list(m_path);
  if (!entries && entries.error().code == ErrorCode::not_found) return std::vector<std::string>{};
  if (!entries) return std::unexpected(entries.error());
  std::vector<std::string> out;
  for (const auto& e : *entries) {
    if (inventory::parse_image_ref(e) && e.find('@') == std::string::npos) out.push_back(e);
  }
  return out;
}

Result<std::vector<int>> Store::versions(std::string_view name) {
  auto entries = m_host.list(name_dir(name));
  if (!entries && entries.error().code == ErrorCode::not_found) return std::vector<int>{};
  if (!entries) return std::unexpected(entries.error());
  std::vector<int> out;
  for (const auto& e : *entries) {
    if (auto n = version_number(e)) out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::map<std::string, std::vector<int>>> Store::versions_of(const std::vector<std::string>& names) {
  std::vector<std::string> dirs;
  for (const auto& n : names) dirs.push_back(name_dir(n));
  auto listed = m_host.list_dirs(dirs);
  if (!listed) return std::unexpected(listed.error());
  std::map<std::string, std::vector<int>> out;
  for (const auto& n : names) {
    auto& vs = out[n];
    auto it = listed->find(name_dir(n));
    if (it == listed->end()) continue;
    for (const auto& e : it->second) {
      if (auto v = version_number(e)) vs.push_back(*v);
    }
    std::sort(vs.begin(), vs.end());
  }
  return out;
}

Result<int> Store::resolve(const ImageRef& ref) {
  auto vs = versions(ref.name);
  if (!vs) return std::unexpected(vs.error());
  if (vs->empty()) {
    auto all = names();
    std::string known;
    if (all) {
      for (const auto& n : *all) known += (known.empty() ? "" : ", ") + n;
    }
    return fail(ErrorCode::not_found, "image " + ref.name + " does not exist in " + m_path + " on " +
                                          m_host.name() + (known.empty() ? " (no images yet)" : " (images: " + known + ")"));
  }
  if (!ref.version) return vs->back();
  if (std::find(vs->begin(), vs->end(), *ref.version) == vs->end()) {
    std::string have;
    for (int v : *vs) have += (have.empty() ? "@" : ", @") + std::to_string(v);
    return fail(ErrorCode::not_found, "image " + ref.str() + " does not exist (versions: " + have + ")");
  }
  return *ref.version;
}

Result<ImageMeta> Store::meta(std::string_view name, int version) {
  const std::string path = version_dir(name, version) + "/image.json";
  auto text = m_host.read_file(path);
  if (!text) return std::unexpected(text.error().with_context(path));
  return meta_from_json(*text, path);
}

Result<bool> is_subvolume(Host& host, const std::string& path) {
  auto fs = host.run({"stat", "-f", "-c", "%T", "--", path});
  if (!fs) return std::unexpected(fs.error());
  if (fs->exit_status != 0 || fs->out.substr(0, 5) != "btrfs") return false;
  auto ino = nfsroot::check(host, {"stat", "-c", "%i", "--", path});
  if (!ino) return std::unexpected(ino.error());
  return ino->out.substr(0, ino->out.find('\n')) == "256";
}

Result<bool> Store::is_btrfs(const std::string& path) {
  auto fs = nfsroot::check(m_host, {"stat", "-f", "-c", "%T", "--", path});
  if (!fs) return std::unexpected(fs.error());
  return fs->out.substr(0, 5) == "btrfs";
}

Result<void> Store::clean_leftovers(const std::string& name) {
  auto entries = m_host.list(name_dir(name));
  if (!entries) return entries.error().code == ErrorCode::not_found ? Result<void>{} : std::unexpected(entries.error());
  for (const auto& e : *entries) {
    if (!e.starts_with(".new-") && !e.starts_with(".old-")) continue;
    const std::string dir = name_dir(name) + "/" + e;
    if (auto r = nfsroot::remove_tree(m_host, dir + "/root"); !r) return r;
    if (auto r = nfsroot::remove_tree(m_host, dir); !r) return r;
  }
  return {};
}

Result<NewVersion> Store::begin(const std::string& name, std::optional<int> from, const Options& options) {
  if (auto r = m_host.make_dirs(name_dir(name)); !r) return std::unexpected(r.error());
  if (auto r = clean_leftovers(name); !r) return std::unexpected(r.error().with_context("image " + name));
  auto vs = versions(name);
  if (!vs) return std::unexpected(vs.error());
  NewVersion nv;
  nv.name = name;
  nv.version = vs->empty() ? 1 : vs->back() + 1;
  nv.dir = name_dir(name) + "/.new-" + std::to_string(nv.version);
  nv.root = nv.dir + "/root";
  if (auto r = m_host.make_dirs(nv.dir); !r) return std::unexpected(r.error());
  if (!from) {
    auto btrfs = is_btrfs(nv.dir);
    if (!btrfs) return std::unexpected(btrfs.error());
    nv.method = *btrfs ? "new btrfs subvolume" : "new folder";
    if (*btrfs) {
      if (auto r = nfsroot::check(m_host, {"btrfs", "subvolume", "create", nv.root}); !r) return std::unexpected(r.error());
    } else if (auto r = m_host.make_dirs(nv.root); !r) {
      return std::unexpected(r.error());
    }
    return nv;
  }
  const std::string source = root_of(name, *from);
  const auto said = [&](const std::string& method, const std::string& reason) {
    nv.method = method;
    options.say(name + "@" + std::to_string(nv.version) + ": " + nv.method + " of " + name + "@" +
                std::to_string(*from) + " (" + reason + ")");
  };
  nfsroot::RunOptions ro;
  ro.timeout = std::chrono::hours(2);
  // Versions of one image sit side by side in one folder, so where the source is a subvolume a
  // snapshot works: tried first, it costs one process (image exec's setup time); only when it
  // fails (no btrfs, not a subvolume) are both paths probed for the right method.
  const auto snapshot = nfsroot::clone_argv(inventory::CloneMethod::btrfs_snapshot, source, nv.root, false);
  if (auto snap = m_host.run(snapshot, ro); snap && snap->exit_status == 0) {
    said(method_name(inventory::CloneMethod::btrfs_snapshot), "the version is a btrfs subvolume");
    return nv;
  }
  auto left = m_host.stat(nv.root);
  if (!left) return std::unexpected(left.error());
  if (left->type != nfsroot::FileType::none) {
    return fail(ErrorCode::io, nv.root + ": a failed btrfs snapshot left this behind; remove it and try again");
  }
  auto sub = is_subvolume(m_host, source);
  if (!sub) return std::unexpected(sub.error());
  auto choice = *sub ? Result<nfsroot::CloneChoice>(nfsroot::CloneChoice{inventory::CloneMethod::btrfs_snapshot,
                                                                         "the version is a btrfs subvolume"})
                     : nfsroot::choose_clone_method(m_host, inventory::CloneMethod::automatic, source, name_dir(name));
  if (!choice) return std::unexpected(choice.error());
  said(method_name(choice->method), choice->reason);
  auto argv = nfsroot::clone_argv(choice->method, source, nv.root, false);
  if (auto r = nfsroot::check(m_host, argv, ro); !r) {
    abort(nv, {});
    return std::unexpected(r.error());
  }
  return nv;
}

Result<void> Store::commit(NewVersion& nv, ImageMeta meta) {
  meta.name = nv.name;
  meta.version = nv.version;
  meta.method = nv.method;
  if (meta.created.empty()) meta.created = utc_now();
  const std::string record = nv.name + "@" + std::to_string(nv.version) + "\n";
  if (auto r = nfsroot::install_files(m_host, nv.root, {{std::string(kRecordPath), record, 0644}}); !r) return r;
  if (auto r = m_host.write_file(nv.dir + "/image.json", to_json(meta).dump(2) + "\n", 0644, std::nullopt); !r) return r;
  auto sub = is_subvolume(m_host, nv.root);
  if (!sub) return std::unexpected(sub.error());
  if (*sub) {
    if (auto r = nfsroot::check(m_host, {"btrfs", "property", "set", "-ts", nv.root, "ro", "true"}); !r) {
      return std::unexpected(r.error());
    }
    // Written to disk now, so the next snapshot of it (image exec) does not wait for this
    // version's data: it cost the first exec after a 2.4 GB import 1.2 s, the next ones 0.1 s.
    nfsroot::RunOptions ro;
    ro.timeout = std::chrono::minutes(30);
    if (auto r = nfsroot::check(m_host, {"btrfs", "filesystem", "sync", nv.root}, ro); !r) return std::unexpected(r.error());
  }
  if (auto r = m_host.rename(nv.dir, version_dir(nv.name, nv.version)); !r) return r;
  nv.committed = true;
  return {};
}

void Store::abort(NewVersion& nv, const Options& options) {
  if (nv.committed || nv.dir.empty()) return;
  auto a = nfsroot::remove_tree(m_host, nv.root);
  auto b = a ? nfsroot::remove_tree(m_host, nv.dir) : Result<void>{};
  if (!a || !b) options.say("could not delete " + nv.dir + " (the next run on " + nv.name + " deletes it): " +
                            (!a ? a.error().message : b.error().message));
}

Result<void> Store::remove(const std::string& name, int version) {
  const std::string old = name_dir(name) + "/.old-" + std::to_string(version);
  if (auto r = m_host.rename(version_dir(name, version), old); !r) return r;
  if (auto r = nfsroot::remove_tree(m_host, old + "/root"); !r) return r;
  return nfsroot::remove_tree(m_host, old);
}

Result<std::string> read_record(Host& host, const std::string& root) {
  const std::string path = root + "/" + std::string(kRecordPath);
  auto st = host.stat(path);
  if (!st) return std::unexpected(st.error());
  if (st->type != nfsroot::FileType::regular || st->size > 200) return std::string();
  auto text = host.read_file(path);
  if (!text) return std::unexpected(text.error());
  return parse_record(*text);
}

std::string parse_record(std::string_view text) {
  if (text.size() > 200) return {};
  std::string line(text.substr(0, text.find('\n')));
  auto ref = inventory::parse_image_ref(line);
  if (!ref || !ref->version) return {};  // never show what a Pi wrote there
  return line;
}

std::vector<nfsroot::PathRead> record_reads(const std::string& root) {
  return nfsroot::root_file_reads(root, {{std::string(kRecordPath), "", 0644}});
}

std::string record_in(const std::string& root, const nfsroot::PathSnapshot& snapshot) {
  const auto type = [&](const std::string& path) {
    auto it = snapshot.find(path);
    return it == snapshot.end() ? nfsroot::FileType::none : it->second.stat.type;
  };
  std::string dir = root;
  const auto parts = split(kRecordPath, '/');
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    dir += "/" + parts[i];
    if (type(dir) != nfsroot::FileType::directory) return {};
  }
  auto it = snapshot.find(root + "/" + std::string(kRecordPath));
  if (it == snapshot.end() || it->second.stat.type != nfsroot::FileType::regular || !it->second.contents) return {};
  return parse_record(*it->second.contents);
}

Result<std::map<std::string, std::string>> root_records(Host& host, const inventory::Shelf& shelf) {
  nfsroot::Layout layout(shelf.fileserver);
  std::vector<std::pair<std::string, std::string>> roots;  // root folder, key
  std::vector<nfsroot::PathRead> reads;
  for (const auto& pi : shelf.pis) {
    auto paths = layout.pi(pi.name);
    if (!paths) continue;
    for (const auto& [root, key] : {std::pair{paths->live, pi.name}, std::pair{paths->previous, pi.name + " (previous)"}}) {
      roots.emplace_back(root, key);
      reads.push_back({root, false});
      auto more = record_reads(root);
      reads.insert(reads.end(), more.begin(), more.end());
    }
  }
  std::map<std::string, std::string> out;
  if (reads.empty()) return out;
  auto snapshot = host.read_paths(reads);
  if (!snapshot) return std::unexpected(snapshot.error());
  for (const auto& [root, key] : roots) {
    auto it = snapshot->find(root);
    if (it == snapshot->end() || it->second.stat.type != nfsroot::FileType::directory) continue;
    if (auto rec = record_in(root, *snapshot); !rec.empty()) out[key] = rec;
  }
  return out;
}

}  // namespace picluster::image
