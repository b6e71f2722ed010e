#include "nanocaf/codec/error.hpp"

namespace nanocaf::codec {

const char* to_string(error e) noexcept {
  switch (e) {
    case error::none: return "ok";
    case error::wrong_packet_type: return "wrong packet type";
    case error::packet_size_exceed: return "codec: packet size exceed";
    case error::invalid_message: return "invalid message";
    case error::wrong_message_type: return "wrong message type";
    case error::wrong_message: return "wrong message";
    case error::route_not_in_dictionary: return "route info not found in dictionary";
    case error::route_too_long: return "route maxlength is overflow";
    case error::body_too_large: return "packet body exceeds 16777215 bytes";
  }
  return "unknown codec error";
}

} // namespace nanocaf::codec
