// The state behind a session handle: shared by the session actor, handlers, groups and timers.
#pragma once

#include <atomic>
#include <deque>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>

#include "detail/node_context.hpp"
#include "nanocaf/wiring/outlet.hpp"
#include "nanocaf/session.hpp"
#include "nanocaf/wiring/client_state.hpp"

namespace nanocaf::detail {

struct closed_callback {
  caf::actor owner; // may be null: then it runs on the session actor
  std::function<void(const session&)> fn;
};

struct session_core {
  session_core(std::int64_t id, std::shared_ptr<outlet> out, std::shared_ptr<node_context> ctx)
    : id(id), out(std::move(out)), ctx(std::move(ctx)) {}

  const std::int64_t id;
  std::atomic<std::int64_t> uid{0};
  std::atomic<bool> closed{false};

  // The fast path (see actor_inbound): Data of a Working session goes from the Asio thread
  // straight to the component actors, bypassing the session actor, as long as no packet batch
  // is still on its way to the session actor (that keeps the order of the session's messages).
  std::atomic<bool> working{false};
  std::atomic<std::uint32_t> batches_at_actor{0};
  std::atomic<std::int64_t> last_activity_ms{0}; // steady clock, for the heartbeat timeout
  // The first handshake ack arrived: the handshake timeout no longer applies (a client that
  // sends its handshake and never acks is closed at handshake_timeout, not after 2H).
  std::atomic<bool> acked{false};
  // Read and written by the session clock only (one actor per runtime, see session_clock.cpp).
  std::int64_t opened_ms = 0;
  std::int64_t next_beat_ms = 0;
  bool timeout_sent = false; // the handshake timeout was reported
  bool idle_sent = false;    // the heartbeat timeout was reported
  // Payload bytes dispatched to component actors and not handled yet (admission control).
  std::atomic<std::size_t> inflight_bytes{0};
  std::atomic<bool> over_bound{false}; // set once: the session is being closed for flooding
  bool internal_caller = false; // a call's session: may reach server-only handlers
  // A call made for a client: that client pays for what its handler broadcasts.
  std::shared_ptr<session_core> fanout_payer;
  const std::shared_ptr<outlet> out;
  const std::shared_ptr<node_context> ctx;

  /// Charges `deliveries` to this client's fan-out budget (runtime_options::fanout_limit);
  /// false when it is over: the caller then drops the broadcast and kicks the client (once).
  bool charge_fanout(std::size_t deliveries);

  std::mutex fanout_mu;  // the fan-out bucket: handlers of several components may broadcast
  double fanout_tokens = -1; // -1: not used yet (starts full)
  std::int64_t fanout_at_ms = 0;
  bool fanout_kicked = false;

  mutable std::mutex mu; // guards the client's state below and the callbacks
  // -- the client's state (client_state.cpp): uid above, and these ------------------------
  nlohmann::json data = nlohmann::json::object();
  std::size_t data_bytes = 0; // keys plus values as JSON text, for max_client_state
  std::uint64_t state_version = 0; // +1 per change, on every copy (see wiring/client_state.hpp)
  std::unordered_map<std::string, std::string> route_bindings; // bind_node pins: they travel
  std::unordered_map<std::string, std::string> sticky_routes;  // routing's own choices: local
  // On the client's gate: what each node serving it holds of its state.
  std::vector<wiring::replica> replicas;
  // On a remote session: its replica id (0 until its first change), and the changes sent to
  // the gate and not acknowledged yet, replayed on a newer copy from the gate and sent again.
  std::uint64_t replica_id = 0;
  std::uint64_t next_seq = 1;
  std::deque<state_change> unacked;
  std::vector<closed_callback> callbacks;
  bool callbacks_fired = false; // set once by the session actor when the session has closed

  /// Encodes and queues one Data packet, running the outbound hooks first.
  errc send_message(const session& s, codec::message_type type, std::uint64_t mid,
                    std::string_view route, std::string payload);
};

/// Applies `change` to the session's state (under its lock) and bumps its version; with
/// `emit`, tells the outlet (a remote session's gate), numbered, and copies what it sent to
/// `emitted` when given. errc::state_too_large when a set or restore would pass the bound
/// (nothing changes).
errc change_state(session_core& core, state_change change, bool emit,
                  state_change* emitted = nullptr);

/// Marks the session closed and runs every on-closed callback once (node-wide hooks first).
/// false when it had already closed.
bool fire_closed(const std::shared_ptr<session_core>& core);

/// Local processing of a Request or Notify (spec 2.5): inbound hooks, then the service actor
/// of the route; a route with no local handler goes to the cluster, or gets a 404 reply.
void dispatch(const std::shared_ptr<session_core>& core, codec::message msg);

/// Runs a closed callback on its owner's actor, or right here when it has none.
void run_closed_callback(closed_callback cb, const session& s);

/// {"code":<code>,"error":"<text>"[,"id":"<error_id>"]} to request `mid` when error replies
/// are on; counted in nanocaf_error_replies_total either way.
void send_error_reply(const std::shared_ptr<session_core>& core, std::uint64_t mid, int code,
                      const std::string& text, const std::string& error_id = {});
/// The error reply of a failure whose detail is not for the client: `detail` is logged with
/// a new error id; the client gets generic_error_text(code) and that id. Returns the id.
std::string send_failure_reply(const std::shared_ptr<session_core>& core, std::uint64_t mid,
                               int code, std::string_view detail);

/// The session whose request or notify a handler is handling on this thread (null elsewhere):
/// what a group broadcast made there is charged to.
session_core* current_request_session() noexcept;
void set_current_request_session(session_core* s) noexcept;

/// The actor whose handler, timer or task is running on this thread (null elsewhere).
caf::actor* current_component_actor() noexcept;
void set_current_component_actor(caf::actor* a) noexcept;

// What only the framework may do with a session handle: reach its core, make one for a core.
struct session_access {
  static const std::shared_ptr<session_core>& core(const session& s) noexcept { return s.core_; }
  static session make(std::shared_ptr<session_core> core, std::uint64_t mid) noexcept {
    return session{std::move(core), mid};
  }
};

inline const std::shared_ptr<session_core>& core_of(const session& s) noexcept {
  return session_access::core(s);
}
inline session make_session(std::shared_ptr<session_core> core, std::uint64_t mid = 0) noexcept {
  return session_access::make(std::move(core), mid);
}

} // namespace nanocaf::detail
