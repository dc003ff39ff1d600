#include "image/partitions.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace picluster::image {

namespace {

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

bool is_fat(const std::string& label, const std::string& type) {
  if (label == "gpt") {
    const std::string t = upper(type);
    return t == "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7" || t == "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
  }
  static const char* const fat_types[] = {"1", "4", "6", "b", "c", "e"};
  return std::any_of(std::begin(fat_types), std::end(fat_types), [&](const char* t) { return type == t; });
}

bool is_linux(const std::string& label, const std::string& type) {
  if (label == "gpt") {
    const std::string t = upper(type);
    return t == "0FC63DAF-8483-4772-8E79-3D69D8477DE4" ||  // Linux filesystem
           t == "B921B045-1DF0-41C3-AF44-4C6F280D3FAE" ||  // Linux root (ARM 64)
           t == "69DAD710-2CE4-4E3C-B16C-21A1D49ABED3";    // Linux root (ARM 32)
  }
  return type == "83";
}

std::string human(std::uint64_t bytes) { return std::to_string(bytes) + " bytes"; }

}  // namespace

Result<PartitionTable> parse_sfdisk_json(std::string_view text, const std::string& where) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("partitiontable") || !j["partitiontable"].is_object()) {
    return fail(ErrorCode::io, where + ": no partition table (sfdisk found none)");
  }
  const auto& t = j["partitiontable"];
  PartitionTable out;
  out.label = t.value("label", "");
  if (out.label != "dos" && out.label != "gpt") {
    return fail(ErrorCode::io, where + ": partition table type " + out.label +
                                                 " (want an MBR or GPT table)");
  }
  const std::uint64_t sector = t.value("sectorsize", 512U);
  if (!t.contains("partitions") || !t["partitions"].is_array()) return out;
  int number = 0;
  for (const auto& p : t["partitions"]) {
    ++number;
    Partition part;
    part.number = number;
    part.offset = p.value("start", std::uint64_t{0}) * sector;
    part.size = p.value("size", std::uint64_t{0}) * sector;
    part.type = p.value("type", "");
    part.fat = is_fat(out.label, part.type);
    part.linux_fs = is_linux(out.label, part.type);
    // sfdisk names partitions IMAGE1, IMAGE2 ... (IMAGEp1 after a digit): take the number.
    const std::string node = p.value("node", "");
    std::size_t i = node.size();
    while (i > 0 && node[i - 1] >= '0' && node[i - 1] <= '9') --i;
    if (i < node.size()) part.number = std::stoi(node.substr(i));
    out.partitions.push_back(part);
  }
  return out;
}

Result<PiPartitions> pick_pi_partitions(const PartitionTable& table, std::uint64_t file_size,
                                        const std::string& where) {
  const Partition* boot = nullptr;
  const Partition* root = nullptr;
  for (const auto& p : table.partitions) {
    if (p.fat && boot == nullptr) boot = &p;
    if (p.linux_fs && root == nullptr) root = &p;
  }
  if (boot == nullptr) {
    return fail(ErrorCode::io, where + ": no FAT boot partition in its " + table.label +
                                                 " partition table (a Pi image has a FAT boot and a Linux root partition)");
  }
  if (root == nullptr) {
    return fail(ErrorCode::io, where + ": no Linux root partition in its " + table.label +
                                                 " partition table (a Pi image has a FAT boot and a Linux root partition)");
  }
  for (const Partition* p : {boot, root}) {
    if (p->size == 0 || p->offset + p->size > file_size) {
      return fail(ErrorCode::io,
                  where + ": truncated or corrupt: partition " + std::to_string(p->number) + " ends at " +
                      human(p->offset + p->size) + " but the file has " + human(file_size));
    }
  }
  return PiPartitions{*boot, *root};
}

}  // namespace picluster::image
