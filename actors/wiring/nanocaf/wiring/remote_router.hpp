// How a cluster plugs into a node's runtime. The runtime knows nothing of gRPC: it hands the
// messages it cannot handle locally to a remote_router, and tells it when a client's session
// ends. The cluster module implements it.
#pragma once

#include <chrono>
#include <optional>

#include "nanocaf/call.hpp"
#include "nanocaf/codec/message.hpp"
#include "nanocaf/session.hpp"

namespace nanocaf {

class remote_router {
public:
  virtual ~remote_router() = default;

  /// A Request or Notify whose route has no local handler. Called on the session's actor (or
  /// the actor that dispatched a remote session's message); must not block.
  virtual void forward(const session& origin, codec::message msg) = 0;

  /// A session of a client connected to this node has closed.
  virtual void session_closed(const session& s) = 0;

  /// A call (request/reply) to a route with no local handler; `done` runs once, on any thread.
  virtual void call(const std::optional<session>& client, codec::message msg,
                    std::chrono::milliseconds timeout, call_handler done) {
    (void) client;
    (void) timeout;
    done({404, "route not found: " + msg.route, {}, {}});
  }
};

} // namespace nanocaf
