// The outlet of a call's transient session: the handler's response completes the call; its
// pushes go to the client the call was made for, if any. A call whose handler drops the
// session without answering completes with 504.
#include <algorithm>
#include <atomic>

#include "detail/call_outlet.hpp"
#include "detail/session_core.hpp"
#include "nanocaf/errors.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::detail {

call_outlet::call_outlet(std::optional<session> client, call_handler done)
  : client_(std::move(client)), done_(std::move(done)) {}

call_outlet::~call_outlet() {
  if (completed_.load(std::memory_order_acquire))
    return;
  try { // a destructor: nothing may escape
    auto id = new_error_id();
    log::info("error ", id, " (504): a called handler did not reply");
    complete({reply_code::timeout, generic_error_text(reply_code::timeout), {}, id});
  } catch (...) {
  }
}

void call_outlet::complete(call_reply reply) {
  if (completed_.exchange(true))
    return;
  if (!done_)
    return;
  if (auto made = changes_made_.load(std::memory_order_acquire); made > 0 && client_) {
    // The reply does not wait for the gate's stream: it carries every change the gate may
    // lack, in order (the gate applies each once), so the caller's callback sees them.
    auto& core = *detail::core_of(*client_);
    std::lock_guard<std::mutex> guard{core.mu};
    auto changes = std::make_shared<wiring::call_changes>();
    changes->changes.assign(core.unacked.begin(), core.unacked.end());
    changes->made = std::min(made, changes->changes.size());
    reply.changes = std::move(changes);
  }
  // runtime::call hands its caller's callback over to the caller's actor (component::call
  // does too); this only guards the destructor, where an exception would end the process.
  try {
    done_(std::move(reply));
  } catch (const std::exception& e) {
    log::error("call completion threw: ", e.what());
  } catch (...) {
    log::error("call completion threw a non-exception");
  }
}

void call_outlet::deliver(codec::message_type type, std::uint64_t, std::string_view route,
                          std::string payload) {
  if (type == codec::message_type::response) {
    complete({0, {}, std::move(payload), {}});
    return;
  }
  if (client_)
    client_->push_payload(route, std::move(payload));
}

void call_outlet::error_reply(std::uint64_t, int code, const std::string& text,
                              const std::string& error_id) {
  complete({code, text, {}, error_id});
}

void call_outlet::kick(shared_bytes packet) {
  if (client_)
    wiring::outlet_of(*client_)->kick(std::move(packet));
}

void call_outlet::close() {
  if (client_)
    client_->close();
}

void call_outlet::changed(const state_change& change) {
  if (!client_)
    return;
  // To the client's gate, and with the reply (see complete).
  state_change sent;
  sent.seq = 0;
  detail::change_state(*detail::core_of(*client_), change, true, &sent);
  if (sent.seq != 0)
    changes_made_.fetch_add(1, std::memory_order_acq_rel);
}

} // namespace nanocaf::detail
