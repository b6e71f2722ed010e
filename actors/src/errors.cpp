#include "nanocaf/errors.hpp"

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
  }
  return "unknown error";
}

} // namespace nanocaf
