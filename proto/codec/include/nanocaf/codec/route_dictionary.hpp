// Route compression dictionary (spec 1.5): route <-> 2-byte code, sent to clients in the
// handshake. Built before the node starts and read-only afterwards, so it needs no lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace nanocaf::codec {

class route_dictionary {
public:
  route_dictionary() = default;
  route_dictionary(std::initializer_list<std::pair<const std::string, std::uint16_t>> entries);

  /// Adds an entry; the route is trimmed of surrounding whitespace. A duplicate route or code
  /// replaces the older entry in both directions (nano: last one wins).
  void add(std::string_view route, std::uint16_t code);

  std::optional<std::uint16_t> code_of(std::string_view route) const;
  const std::string* route_of(std::uint16_t code) const;

  bool empty() const noexcept { return by_route_.empty(); }
  std::size_t size() const noexcept { return by_route_.size(); }
  /// Entries sorted by route: the order Go writes them in the handshake's `sys.dict`.
  const std::map<std::string, std::uint16_t, std::less<>>& entries() const noexcept {
    return by_route_;
  }

private:
  std::map<std::string, std::uint16_t, std::less<>> by_route_;
  std::unordered_map<std::uint16_t, std::string> by_code_;
};

} // namespace nanocaf::codec
