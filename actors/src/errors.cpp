#include "nanocaf/errors.hpp"

#include <atomic>
#include <cstdio>
#include <random>

namespace nanocaf {

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::close_closed_group: return "close closed group";
    case errc::closed_group: return "group closed";
    case errc::member_not_found: return "member not found in the group";
    case errc::session_duplication: return "session has existed in the current group";
    case errc::illegal_uid: return "illegal uid";
    case errc::session_on_notify: return "current session working on notify mode";
    case errc::broken_pipe: return "broken low-level pipe";
    case errc::encode_failed: return "message could not be encoded";
    case errc::dropped: return "dropped by an outbound pipeline hook";
    case errc::rate_limited: return "rate limit exceeded";
    case errc::state_too_large: return "client state too large";
  }
  return "unknown error";
}

const char* generic_error_text(int code) noexcept {
  switch (code) {
    case reply_code::bad_request: return "bad request";
    case reply_code::route_not_found: return "route not found";
    case reply_code::too_many_requests: return "too many requests";
    case reply_code::handler_failed: return "internal error";
    case reply_code::unavailable: return "service unavailable";
    case reply_code::timeout: return "timeout";
    default: return code >= 500 ? "internal error" : "request failed";
  }
}

std::string new_error_id() {
  // A random start per process and a counter: unique, and cheap enough for floods of errors.
  static std::atomic<std::uint64_t> next{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  auto n = next.fetch_add(0x9E3779B97F4A7C15ull, std::memory_order_relaxed);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(n));
  return text;
}

} // namespace nanocaf
