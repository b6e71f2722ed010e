// Payload (de)serialisation for handler arguments and pushed values (spec 1.10, 6.2).
//  - nanocaf::bytes: passed through unchanged;
//  - protobuf messages: binary under serializer_kind::protobuf, protobuf's JSON mapping under json;
//  - nlohmann::json and any type with to_json/from_json: JSON.
#pragma once

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

/// Thrown when a payload cannot be turned into the handler's argument type.
class payload_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {
std::string encode_protobuf(serializer_kind kind, const google::protobuf::Message& msg);
void decode_protobuf(serializer_kind kind, std::string_view in, google::protobuf::Message& msg);

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

/// Fills `out` from `in`; throws payload_error when the bytes do not fit the type.
template <class T>
void decode_payload(serializer_kind kind, std::string&& in, T& out) {
  if constexpr (std::is_same_v<T, bytes>) {
    out.data = std::move(in);
  } else if constexpr (detail::is_protobuf_v<T>) {
    detail::decode_protobuf(kind, in, out);
  } else {
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
