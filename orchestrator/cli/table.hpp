#pragma once
// Plain-text output helpers: tables whose columns are padded to their widest cell, two spaces
// apart, and human-readable times (sizes: common/text.hpp).

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "common/text.hpp"

namespace picluster::cli {

using picluster::human_bytes;  // "1.5 GiB", "312 B"
// "2026-11-22 03:20 UTC" for seconds since the epoch.
std::string utc_time(std::int64_t seconds);

class Table {
 public:
  explicit Table(std::vector<std::string> header) : m_rows{std::move(header)} {}
  void add(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> m_rows;
};

}  // namespace picluster::cli
