#include "image/boot_set.hpp"

#include <algorithm>

#include "common/text.hpp"
#include "image/adapt.hpp"

namespace picluster::image {

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

}  // namespace

void parse_config_names(std::string_view config, std::string& kernel, std::string& initramfs) {
  for (auto line : split(config, '\n')) {
    line = trim(line);
    if (line.starts_with("kernel=")) kernel = trim(line.substr(7));
    if (line.starts_with("initramfs ")) {
      auto rest = trim(line.substr(10));
      initramfs = rest.substr(0, rest.find_first_of(" \t"));
    }
  }
}

Result<BootSet> read_boot_set(Host& host, const std::string& root) {
  const std::string dir = root + "/" + std::string(kBootSetDir);
  BootSet set;
  auto st = host.stat(dir);
  if (!st) return std::unexpected(st.error());
  if (st->type != nfsroot::FileType::directory) {
    return fail(ErrorCode::not_found, root + ": no boot set (" + std::string(kBootSetDir) + " is missing)");
  }
  auto entries = host.list(dir);
  if (!entries) return std::unexpected(entries.error());
  for (const auto& e : *entries) {
    auto est = host.stat(dir + "/" + e);
    if (!est) return std::unexpected(est.error());
    set.files.push_back(est->type == nfsroot::FileType::directory ? e + "/" : e);
    if (e.ends_with(".dtb")) set.dtbs.push_back(e);
  }
  for (const char* f : {"bootcode.bin", "start.elf", "fixup.dat", "start4.elf", "fixup4.dat"}) {
    if (std::find(entries->begin(), entries->end(), f) == entries->end()) set.missing.emplace_back(f);
  }
  auto cst = host.stat(dir + "/config.txt");
  if (!cst) return std::unexpected(cst.error());
  if (cst->type == nfsroot::FileType::regular) {
    auto config = host.read_file(dir + "/config.txt");
    if (!config) return std::unexpected(config.error());
    parse_config_names(*config, set.kernel, set.initramfs);
  }
  return set;
}

Result<void> stage_boot_set(Host& host, const std::string& root, const std::string& dest,
                            const std::vector<RenderedFile>& files) {
  const std::string src = root + "/" + std::string(kBootSetDir);
  auto set = read_boot_set(host, root);
  if (!set) return std::unexpected(set.error());
  if (auto r = host.make_dirs(dest); !r) return r;
  // -rt without -l: symlinks in the image are skipped, never followed into the TFTP folder.
  nfsroot::RunOptions ro;
  ro.timeout = std::chrono::minutes(30);
  if (auto r = nfsroot::check(host, {"rsync", "-rt", "--delete", "--exclude=/config.txt", "--exclude=/cmdline.txt",
                                     "--exclude=/" + std::string(kImageConfig), src + "/", dest + "/"}, ro);
      !r) {
    return std::unexpected(r.error().with_context("stage boot set"));
  }
  std::string config;
  auto cst = host.stat(src + "/config.txt");
  if (!cst) return std::unexpected(cst.error());
  if (cst->type == nfsroot::FileType::regular) {
    auto text = host.read_file(src + "/config.txt");
    if (!text) return std::unexpected(text.error());
    config = *text;
  }
  if (auto r = host.write_file(dest + "/" + std::string(kImageConfig), config, 0644, nfsroot::Owner{}); !r) return r;
  for (const auto& f : files) {
    if (auto r = host.write_file(dest + "/" + f.path, f.contents, f.mode, nfsroot::Owner{}); !r) return r;
  }
  return {};
}

}  // namespace picluster::image
