// Error values of the runtime, with nano's texts where nano has one (spec 2.6).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace nanocaf {

enum class errc : std::uint8_t {
  ok = 0,
  close_closed_group,  // "close closed group"
  closed_group,        // "group closed"
  member_not_found,    // "member not found in the group"
  session_duplication, // "session has existed in the current group"
  illegal_uid,         // "illegal uid"
  session_on_notify,   // "current session working on notify mode"
  broken_pipe,         // "broken low-level pipe"
  encode_failed,       // payload or packet could not be encoded
  dropped,             // an outbound pipeline hook dropped the message
};

const char* to_string(errc e) noexcept;

/// Error-reply codes (extension): sent as {"code":<n>,"error":"<text>"} for failed requests.
namespace reply_code {
inline constexpr int bad_request = 400;     // payload did not decode into the handler's type
inline constexpr int route_not_found = 404; // no handler for the route
inline constexpr int handler_failed = 500;  // the handler threw
} // namespace reply_code

/// Thrown by a handler to answer a request with {"code":code,"error":what()}.
class handler_error : public std::runtime_error {
public:
  handler_error(int code, const std::string& text) : std::runtime_error(text), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

} // namespace nanocaf
