#pragma once
// Plain-text tables for terminal output: columns padded to their widest cell, two spaces apart.

#include <ostream>
#include <string>
#include <vector>

namespace picluster::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : m_rows{std::move(header)} {}
  void add(std::vector<std::string> row) { m_rows.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> m_rows;
};

}  // namespace picluster::cli
