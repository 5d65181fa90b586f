#pragma once
/// Plain-text tables for CLI output: columns padded to their widest cell, widths counted in
/// terminal columns rather than bytes.
#include <string>
#include <string_view>
#include <vector>

namespace pc::cli {

/// The terminal columns `text` takes: one per UTF-8 code point, two for East Asian wide and
/// fullwidth characters and for emoji, none for combining marks and zero-width characters.
/// A simple approximation of wcwidth() that does not depend on the locale; bytes that are not
/// valid UTF-8 count one column each.
std::size_t displayWidth(std::string_view text);

class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void addRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  /// Every row on its own line, cells two spaces past the widest cell of their column (the
  /// last cell of a row unpadded).
  [[nodiscard]] std::string render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace pc::cli
