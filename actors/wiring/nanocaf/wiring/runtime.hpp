// What the gateway and the cluster ask of a runtime: sessions for connections and for clients
// of other nodes, local dispatch, the hand-over of actors to an event loop. Not installed:
// users never call it (a server is nanocaf::server, a runtime's public face is runtime.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "nanocaf/call.hpp"
#include "nanocaf/codec/message.hpp"
#include "nanocaf/codec/packet.hpp"
#include "nanocaf/wiring/outlet.hpp"
#include "nanocaf/wiring/remote_router.hpp"
#include "nanocaf/session.hpp"

namespace nanocaf {
class runtime;
}

namespace nanocaf::wiring {

/// How a connection hands what it reads to its session actor.
class inbound {
public:
  virtual ~inbound() = default;
  /// The packets of one read, in order. They are taken: `packets` is left empty, and the
  /// caller reuses it (its capacity) for the next read.
  virtual void deliver(std::vector<codec::packet>& packets) = 0;
  /// Control frames of the transport (WebSocket pings and pongs), which never become packets
  /// but count against the client's packet budget; false when it is over (it is kicked).
  virtual bool control_frames(std::size_t /*n*/) { return true; }
  /// The connection is gone; `reason` is for the log. Called once.
  virtual void closed(std::string reason) = 0;
  /// The stream could not be decoded; the session logs it and closes the connection.
  virtual void failed(std::string reason) = 0;
};

// -- what a gateway uses -------------------------------------------------------------------

/// A session actor for a new connection.
std::unique_ptr<inbound> open_session(runtime& rt, std::shared_ptr<outlet> out);

/// Under the "io" policy, lends the node's actors the thread of an event loop: from now on
/// they run there, between the loop's own handlers, instead of on the worker threads.
/// `wake` must only queue a call of run_hosted_actors() on the loop's thread; it is called
/// on any thread and must stay callable until unhost_actors() returns. False (and nothing
/// changes) under the other policies or when a loop already hosts them.
bool host_actors(runtime& rt, std::function<void()> wake);
/// On the hosting loop's thread, once per wake: runs the actors that are due.
void run_hosted_actors(runtime& rt);
/// The worker threads take the actors back; call it before the hosting loop stops.
void unhost_actors(runtime& rt);

// -- what a cluster uses -------------------------------------------------------------------

/// Routes with no local handler go to `router` (set before start()).
void set_remote_router(runtime& rt, std::shared_ptr<remote_router> router);
/// A session for a client of another node: no socket and no session actor; `out` carries
/// its pushes and responses back to the client's gate.
session open_remote_session(runtime& rt, std::shared_ptr<outlet> out);
/// Ends a remote session: its on-closed callbacks run once.
void close_remote_session(runtime& rt, const session& s);
/// Local processing of a message for `s` (inbound hooks, then its service actor). Routes
/// with no local handler go to the remote router. Thread-safe.
void dispatch(runtime& rt, const session& s, codec::message msg);
/// Posts `op` to the actor of the live client session `id` (it runs there later, so it must
/// own what it captures); false when there is no such session.
bool with_session(runtime& rt, std::int64_t id, std::function<void(const session&)> op);
/// A transient session for a call: the handler's response (or error) completes `done`,
/// its pushes reach `client` when there is one.
session open_call_session(runtime& rt, std::optional<session> client, call_handler done);

} // namespace nanocaf::wiring
