// Errors of the wire codec. The texts are nano's, so logs read the same for people who know it.
#pragma once

#include <cstdint>

namespace nanocaf::codec {

enum class error : std::uint8_t {
  none = 0,
  wrong_packet_type,          // packet type outside 1..5
  packet_size_exceed,         // announced body longer than the decoder's limit
  invalid_message,            // message body shorter than 2 bytes
  wrong_message_type,         // message type 4..7
  wrong_message,              // truncated id, route or compressed code
  route_not_in_dictionary,    // compressed route code that the dictionary lacks
  route_too_long,             // encoder: route longer than 255 bytes
  body_too_large,             // encoder: body longer than the 3-byte length field allows
};

/// nano's text for each error ("wrong packet type", "codec: packet size exceed", ...).
const char* to_string(error e) noexcept;

} // namespace nanocaf::codec
