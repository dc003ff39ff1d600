#include "nfsroot/remote_batch.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/text.hpp"

namespace picluster::nfsroot::remote {
namespace {

FileType type_of(std::string_view c) {
  if (c == "f") return FileType::regular;
  if (c == "d") return FileType::directory;
  if (c == "l") return FileType::symlink;
  return FileType::other;
}

std::uint64_t number(std::string_view v, int base) {
  return std::strtoull(std::string(v).c_str(), nullptr, base);
}

// One read_paths record at `at`: "TYPE|SIZE|MODE|MTIME|UID|GID|LEN|PATH\0" + LEN bytes.
Result<std::pair<std::string, PathFacts>> parse_record(std::string_view out, std::size_t& at) {
  const auto end = out.find('\0', at);
  if (end == std::string_view::npos) return fail(ErrorCode::io, "read batch: the answer was cut short");
  const std::string_view record = out.substr(at, end - at);
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (int i = 0; i < 7; ++i) {
    const auto bar = record.find('|', start);
    if (bar == std::string_view::npos) {
      return fail(ErrorCode::io, "read batch: malformed record " + printable(record));
    }
    fields.push_back(record.substr(start, bar - start));
    start = bar + 1;
  }
  PathFacts facts;
  facts.stat.type = type_of(fields[0]);
  facts.stat.size = number(fields[1], 10);
  facts.stat.mode = static_cast<unsigned>(number(fields[2], 8)) & 07777U;
  facts.stat.mtime = static_cast<std::int64_t>(std::strtoll(std::string(fields[3]).c_str(), nullptr, 10));
  facts.stat.uid = static_cast<std::uint32_t>(number(fields[4], 10));
  facts.stat.gid = static_cast<std::uint32_t>(number(fields[5], 10));
  at = end + 1;
  if (fields[6] != "-") {
    const auto len = static_cast<std::size_t>(number(fields[6], 10));
    if (out.size() - at < len) return fail(ErrorCode::io, "read batch: the file stream was cut short");
    facts.contents = std::string(out.substr(at, len));
    facts.stat.size = len;
    at += len;
  }
  return std::pair{std::string(record.substr(start)), std::move(facts)};
}

std::string nul_joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += i + '\0';
  return out;
}

}  // namespace

Request read_paths_request(const std::vector<PathRead>& paths) {
  Request r;
  std::size_t with_contents = 0;
  for (const auto& p : paths) {
    if (!p.contents) continue;
    r.input += p.path + '\0';
    ++with_contents;
  }
  for (const auto& p : paths) {
    if (!p.contents) r.input += p.path + '\0';
  }
  r.args = {"read_paths", std::to_string(with_contents)};
  return r;
}

Result<PathSnapshot> parse_read_paths(std::string_view out) {
  PathSnapshot snapshot;
  std::size_t at = 0;
  while (at < out.size()) {
    auto record = parse_record(out, at);
    if (!record) return std::unexpected(record.error());
    auto& [path, facts] = *record;
    if (const auto seen = snapshot.find(path); seen != snapshot.end() && seen->second.contents) continue;
    snapshot[path] = std::move(facts);
  }
  return snapshot;
}

Request read_children_request(const std::string& dir, const std::vector<std::string>& inside) {
  Request r{{"read_children", dir}, {}};
  r.args.insert(r.args.end(), inside.begin(), inside.end());
  return r;
}

Request write_files_request(const std::vector<FileWrite>& files) {
  Request r{{"write_files"}, {}};
  for (const auto& f : files) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", f.mode & 07777U);
    const std::string owner =
        f.owner ? std::to_string(f.owner->uid) + ":" + std::to_string(f.owner->gid) : "-";
    r.input += std::string(f.folder ? "d " : "f ") + std::to_string(f.path.size()) + " " +
               std::to_string(f.folder ? 0 : f.contents.size()) + " " + mode + " " + owner + "\n";
    r.input += f.path;
    if (!f.folder) r.input += f.contents;
  }
  r.input += "e 0 0 0 -\n";
  return r;
}

Request list_dirs_request(const std::vector<std::string>& dirs) { return {{"list_dirs"}, nul_joined(dirs)}; }

Result<std::map<std::string, std::vector<std::string>>> parse_list_dirs(std::string_view out) {
  std::map<std::string, std::vector<std::string>> dirs;
  const auto fields = split(out, '\0');
  // Folder, count, that many names; split gives an empty field after the last NUL.
  std::size_t i = 0;
  while (i + 1 < fields.size()) {
    auto& names = dirs[fields[i]];
    const auto count = static_cast<std::size_t>(number(fields[i + 1], 10));
    i += 2;
    if (fields.size() - i < count + 1) return fail(ErrorCode::io, "list batch: the answer was cut short");
    names.assign(fields.begin() + static_cast<std::ptrdiff_t>(i), fields.begin() + static_cast<std::ptrdiff_t>(i + count));
    std::ranges::sort(names);
    i += count;
  }
  return dirs;
}

Result<FileStat> parse_stat(std::string_view out) {
  if (out.empty()) return FileStat{};
  std::size_t at = 0;
  auto record = parse_record(out, at);
  if (!record) return std::unexpected(record.error());
  return record->second.stat;
}

std::vector<std::string> parse_names(std::string_view out) {
  std::vector<std::string> names = split(out, '\0');
  if (!names.empty() && names.back().empty()) names.pop_back();
  std::ranges::sort(names);
  return names;
}

}  // namespace picluster::nfsroot::remote
