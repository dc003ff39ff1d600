#pragma once
// Reading a disk image's partition table (MBR or GPT) from `sfdisk --json IMAGE` and picking the
// Raspberry Pi OS shape: a FAT boot partition and a Linux root partition. Pure: unit-tested on
// sfdisk's JSON.

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace picluster::image {

struct Partition {
  int number = 0;              // 1-based, as in the table
  std::uint64_t offset = 0;    // bytes from the start of the image
  std::uint64_t size = 0;      // bytes
  std::string type;            // MBR type ("c", "83") or GPT type GUID, as sfdisk prints it
  bool fat = false;            // a FAT type (MBR 0x0b 0x0c 0x0e 0x06 0x01 0x04, GPT basic data / ESP)
  bool linux_fs = false;       // a Linux data type (MBR 0x83, GPT Linux filesystem / root)
};

struct PartitionTable {
  std::string label;  // "dos" or "gpt"
  std::vector<Partition> partitions;
};

// `where` names the image in messages.
Result<PartitionTable> parse_sfdisk_json(std::string_view json, const std::string& where);

struct PiPartitions {
  Partition boot;
  Partition root;
};

// The first FAT partition and the first Linux partition after it (or anywhere), each checked to
// lie within `file_size` bytes. Errors: "no FAT boot partition", "no Linux root partition",
// "truncated: partition 2 ends at ... bytes but the file has ...".
Result<PiPartitions> pick_pi_partitions(const PartitionTable& table, std::uint64_t file_size,
                                        const std::string& where);

}  // namespace picluster::image
