// What a session writes to. The gateway implements it with a socket; a cluster member
// implements it with the gRPC path back to the client's gate; a call between components with
// the call's completion. Handlers cannot tell them apart. Not installed: the framework's.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "nanocaf/bytes.hpp"
#include "nanocaf/codec/message.hpp"

namespace nanocaf {

/// One change a handler made to a client's state (session::bind, set, remove, clear,
/// restore, bind_node, unbind_node): what a remote session sends to the client's gate.
struct state_change {
  enum class kind : std::uint8_t { bind, set, remove, clear, restore, route, unroute, resync };
  kind what = kind::set;
  std::string key;      // set/remove: the key; route/unroute: the service
  nlohmann::json value; // set: the value; restore: the whole object; route: the node address
  std::int64_t uid = 0; // bind
  /// Set by the framework: the copy that made the change (random per remote session) and its
  /// number there, from 1, so that the gate applies each change once and in order.
  std::uint64_t replica = 0;
  std::uint64_t seq = 0;
};

class session;

namespace wiring {
/// What a call_reply carries back for a call made for a client of another node: the changes
/// of the callee's copy of the client's state that its gate may lack (the handler's are the
/// last `made`), applied to the caller's copy before its callback runs.
struct call_changes {
  std::vector<state_change> changes;
  std::size_t made = 0;
  std::string node; // the node that made them
};
} // namespace wiring

class outlet {
public:
  virtual ~outlet() = default;

  /// Queues one whole encoded packet. Thread-safe and never blocks: a peer that does not read
  /// is closed when its queue bound is hit.
  virtual void send(shared_bytes packet) = 0;

  /// The same for a packet that stays the caller's (a scratch buffer): a connection with
  /// nothing queued writes it at once, so it is copied only when it has to wait.
  virtual void send_copy(std::string_view packet) {
    send(std::make_shared<const std::string>(packet));
  }

  /// For a write_deferral (actors/src/detail/deferred_writes.hpp): like send(), but an outlet with
  /// nothing queued may hold the packet, and what follows it, until write_held(). True when it
  /// holds; the deferral then calls write_held() when it ends. By default: send() at once.
  virtual bool send_or_hold(shared_bytes packet) {
    send(std::move(packet));
    return false;
  }
  /// Writes what send_or_hold() held, at once.
  virtual void write_held() {}

  /// Writes what is queued, then `kick_packet`, then closes.
  virtual void kick(shared_bytes kick_packet) = 0;

  /// Closes at once; queued packets may be lost.
  virtual void close() = 0;

  virtual const std::string& remote_address() const = 0;

  // -- outlets that carry whole messages instead of bytes --------------------------------
  /// True for a remote session's path back to its gate: the session then hands it whole
  /// messages through deliver() and skips encoding and outbound hooks (the gate runs those).
  virtual bool forwards_messages() const noexcept { return false; }
  /// A Push (mid 0) or a Response, payload already serialised.
  virtual void deliver(codec::message_type /*type*/, std::uint64_t /*mid*/,
                       std::string_view /*route*/, std::string /*payload*/) {}
  /// The session's state changed here; a remote session tells its gate, which holds the
  /// client's authoritative copy (docs/cluster.md, "Client state").
  virtual void changed(const state_change& /*change*/) {}
  /// A failed request: by default the runtime sends {"code":n,"error":text[,"id":error_id]}
  /// as the Response; a call's outlet completes the call with the error instead, and a remote
  /// session's tells its gate, which answers the client as its own options say.
  virtual void error_reply(std::uint64_t /*mid*/, int /*code*/, const std::string& /*text*/,
                           const std::string& /*error_id*/) {}
  virtual bool takes_error_replies() const noexcept { return false; }
};

namespace wiring {
/// Where `s`'s messages go: a socket on a gate, the cluster on a backend, a call's completion.
const std::shared_ptr<outlet>& outlet_of(const session& s) noexcept;
} // namespace wiring

} // namespace nanocaf
