#pragma once
/// Counts per key kept in a map that holds only the keys in use (a count that reaches zero takes
/// its key with it), as the bounds on streams and circuits need them.
#include <cstddef>

namespace pc {

/// The count of `key` (0 when absent).
template <class Map, class Key>
std::size_t countOf(const Map& m, const Key& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

/// Takes one from `key`'s count, forgetting the key at zero.
template <class Map, class Key>
void countDown(Map& m, const Key& key) {
  auto it = m.find(key);
  if (it != m.end() && --it->second == 0) {
    m.erase(it);
  }
}

}  // namespace pc
