// The outlet of a call's transient session: the handler's response completes the call; its
// pushes go to the client the call was made for, if any. A call whose handler drops the
// session without answering completes with 504.
#include <atomic>

#include "detail/call_outlet.hpp"
#include "nanocaf/errors.hpp"

namespace nanocaf::detail {

call_outlet::call_outlet(std::optional<session> client, call_handler done)
  : client_(std::move(client)), done_(std::move(done)) {}

call_outlet::~call_outlet() { complete({504, "the handler did not reply", {}}); }

void call_outlet::complete(call_reply reply) {
  if (completed_.exchange(true))
    return;
  if (done_)
    done_(std::move(reply));
}

void call_outlet::deliver(codec::message_type type, std::uint64_t, std::string_view route,
                          std::string payload) {
  if (type == codec::message_type::response) {
    complete({0, {}, std::move(payload)});
    return;
  }
  if (client_)
    client_->push_payload(route, std::move(payload));
}

void call_outlet::error_reply(std::uint64_t, int code, const std::string& text) {
  complete({code, text, {}});
}

void call_outlet::kick(shared_bytes packet) {
  if (client_)
    client_->out()->kick(std::move(packet));
}

void call_outlet::close() {
  if (client_)
    client_->close();
}

void call_outlet::bound(std::int64_t uid) {
  if (client_)
    client_->bind(uid);
}

} // namespace nanocaf::detail
