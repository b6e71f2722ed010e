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
  rate_limited,        // the client whose request made the broadcast is over its fan-out budget
  state_too_large,     // the client's state would pass runtime_options::max_client_state
};

const char* to_string(errc e) noexcept;

/// Error-reply codes (extension): sent as `{"code":N,"error":"TEXT"}` for failed requests.
namespace reply_code {
inline constexpr int bad_request = 400;     // payload did not decode into the handler's type
inline constexpr int route_not_found = 404; // no handler for the route
inline constexpr int too_many_requests = 429; // a client's queue towards other nodes is full
inline constexpr int handler_failed = 500;  // the handler threw
inline constexpr int unavailable = 503;     // the node that offers the route cannot be reached
inline constexpr int timeout = 504;         // no reply in time
} // namespace reply_code

/// What a client reads for a failure whose detail is not for clients (an exception's text, a
/// node's address, a gRPC status): "internal error" for 500, "service unavailable" for 503,
/// "timeout" for 504, and so on. The detail goes to the log under the reply's error id.
const char* generic_error_text(int code) noexcept;

/// A new id for one error reply and the log line that explains it: 16 hex digits, random per
/// process, so ids from different nodes do not collide.
std::string new_error_id();

/// Thrown by a handler to answer a request with {"code":code,"error":what()}.
class handler_error : public std::runtime_error {
public:
  handler_error(int code, const std::string& text) : std::runtime_error(text), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

} // namespace nanocaf
