// Request/reply between components, on this node or another: the handler's return value (or
// its error) comes back to the caller. nano's RPC is a fire-and-forget notify; users asked for
// this (nano issues 70, 79, 80, 95).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace nanocaf {

namespace wiring {
struct call_changes;
}

struct call_reply {
  call_reply(int code = 0, std::string error = {}, std::string data = {}, std::string error_id = {})
    : code(code), error(std::move(error)), data(std::move(data)), error_id(std::move(error_id)) {}

  /// 0 on success; otherwise an error-reply code: 404 no handler, 400 bad payload, 500 the
  /// handler failed, 503 the node could not be reached, 504 no reply in time.
  int code = 0;
  std::string error;
  std::string data; // the serialised reply when code is 0
  std::string error_id; // set for failures whose detail is in a log line with this id
  /// The framework's, for a call made for a client of another node: what the called handler
  /// changed in the client's state, applied to the caller's copy before its callback runs.
  std::shared_ptr<wiring::call_changes> changes;

  bool ok() const noexcept { return code == 0; }
};

using call_handler = std::function<void(call_reply)>;

/// The reply of a typed call (component::call<R>): the decoded value, or why there is none.
template <class R>
struct call_result {
  int code = 0; // as call_reply::code
  std::string error;
  std::string error_id;
  std::optional<R> value; // set when code is 0

  bool ok() const noexcept { return code == 0; }
};

} // namespace nanocaf
