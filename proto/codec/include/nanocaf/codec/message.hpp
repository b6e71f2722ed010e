// Message layer, the body of a Data packet (spec 1.4):
//   flag | id (varint, Request/Response) | route (Request/Notify/Push) | payload
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "nanocaf/codec/error.hpp"
#include "nanocaf/codec/route_dictionary.hpp"

namespace nanocaf::codec {

enum class message_type : std::uint8_t { request = 0, notify = 1, response = 2, push = 3 };

const char* to_string(message_type t) noexcept;

constexpr bool has_id(message_type t) noexcept {
  return t == message_type::request || t == message_type::response;
}
constexpr bool has_route(message_type t) noexcept {
  return t == message_type::request || t == message_type::notify || t == message_type::push;
}

inline constexpr std::size_t max_route_length = 255;

struct message {
  message_type type = message_type::notify;
  std::uint64_t id = 0;
  std::string route;
  std::string payload;
  bool route_compressed = false; // set by the decoder: the route came as a dictionary code
};

/// Decodes one message body. `dict` may be null (then every compressed route is unknown).
/// Unlike nano it never reads past the body: a truncated varint, route or code is
/// error::wrong_message. An empty Response payload is accepted (Go peers refuse it).
error decode_message(std::string_view body, const route_dictionary* dict, message& out);
/// The same, taking the body over: the payload keeps the body's memory (no copy).
error decode_message(std::string&& body, const route_dictionary* dict, message& out);

/// Appends the encoded message body to `out`; routes found in `dict` are compressed.
/// Refuses routes over 255 bytes.
error encode_message(message_type type, std::uint64_t id, std::string_view route,
                     std::string_view payload, const route_dictionary* dict, std::string& out);

/// Appends a whole Data packet (header + message) to `out` in one pass: the form a server
/// writes to a socket. Refuses bodies over 0xFFFFFF bytes.
error encode_data_packet(message_type type, std::uint64_t id, std::string_view route,
                         std::string_view payload, const route_dictionary* dict,
                         std::string& out);

} // namespace nanocaf::codec
