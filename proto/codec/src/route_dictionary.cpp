#include "nanocaf/codec/route_dictionary.hpp"

namespace nanocaf::codec {

namespace {

std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\r\n\v\f";
  auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos)
    return {};
  auto last = s.find_last_not_of(space);
  return s.substr(first, last - first + 1);
}

} // namespace

route_dictionary::route_dictionary(
  std::initializer_list<std::pair<const std::string, std::uint16_t>> entries) {
  for (auto& [route, code] : entries)
    add(route, code);
}

void route_dictionary::add(std::string_view raw_route, std::uint16_t code) {
  std::string route{trim(raw_route)};
  // Last one wins in both directions: drop whatever the route or the code pointed at before.
  if (auto old = by_route_.find(route); old != by_route_.end())
    by_code_.erase(old->second);
  if (auto old = by_code_.find(code); old != by_code_.end())
    by_route_.erase(old->second);
  by_route_[route] = code;
  by_code_[code] = std::move(route);
}

std::optional<std::uint16_t> route_dictionary::code_of(std::string_view route) const {
  if (by_route_.empty())
    return std::nullopt;
  auto i = by_route_.find(route);
  if (i == by_route_.end())
    return std::nullopt;
  return i->second;
}

const std::string* route_dictionary::route_of(std::uint16_t code) const {
  auto i = by_code_.find(code);
  return i == by_code_.end() ? nullptr : &i->second;
}

} // namespace nanocaf::codec
