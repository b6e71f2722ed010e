// Payload (de)serialisation for handler arguments and pushed values (spec 1.10, 6.2).
//  - nanocaf::bytes: passed through unchanged;
//  - protobuf messages: binary under serializer_kind::protobuf, protobuf's JSON mapping under json;
//  - nlohmann::json and any type with to_json/from_json: JSON.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "nanocaf/bytes.hpp"

namespace google::protobuf {
class Message;
} // namespace google::protobuf

namespace nanocaf {

enum class serializer_kind { json, protobuf };

/// How deep JSON from a client may nest (arrays and objects) before it is refused: printing
/// JSON recurses once per level, so a payload nested tens of thousands deep would end the
/// stack of whichever thread dumps it. Games rarely go past ten. See runtime_options.
inline constexpr std::size_t default_max_json_depth = 64;

/// Thrown when a payload cannot be turned into the handler's argument type.
class payload_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {
std::string encode_protobuf(serializer_kind kind, const google::protobuf::Message& msg);
void decode_protobuf(serializer_kind kind, std::string_view in, google::protobuf::Message& msg);
/// True when `json` opens more than `limit` arrays or objects inside each other (strings are
/// skipped, escapes included). One pass, no allocation: it runs before every parse.
bool json_nested_deeper_than(std::string_view json, std::size_t limit) noexcept;
/// Throws payload_error when `json` is nested deeper than `limit`.
void check_json_depth(std::string_view json, std::size_t limit);

template <class T>
inline constexpr bool is_protobuf_v = std::is_base_of_v<google::protobuf::Message, T>;
} // namespace detail

template <class T>
std::string encode_payload(serializer_kind kind, const T& value) {
  if constexpr (std::is_same_v<T, bytes>) {
    return value.data;
  } else if constexpr (detail::is_protobuf_v<T>) {
    return detail::encode_protobuf(kind, value);
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return value.dump();
  } else {
    return nlohmann::json(value).dump();
  }
}

/// Fills `out` from `in`; throws payload_error when the bytes do not fit the type, or when
/// JSON nests deeper than `max_depth`.
template <class T>
void decode_payload(serializer_kind kind, std::string&& in, T& out,
                    std::size_t max_depth = default_max_json_depth) {
  if constexpr (std::is_same_v<T, bytes>) {
    out.data = std::move(in);
  } else if constexpr (detail::is_protobuf_v<T>) {
    if (kind == serializer_kind::json)
      detail::check_json_depth(in, max_depth);
    detail::decode_protobuf(kind, in, out);
  } else {
    detail::check_json_depth(in, max_depth);
    try {
      // An empty payload reads as an empty object, as nano's JSON serializer does for "{}".
      auto j = in.empty() ? nlohmann::json::object() : nlohmann::json::parse(in);
      if constexpr (std::is_same_v<T, nlohmann::json>)
        out = std::move(j);
      else
        j.get_to(out);
    } catch (const nlohmann::json::exception& e) {
      throw payload_error(e.what());
    }
  }
}

} // namespace nanocaf
