#pragma once
/// Plain-text tables for CLI output: columns padded to their widest cell.
#include <ostream>
#include <string>
#include <vector>

namespace pc::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void addRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace pc::cli
