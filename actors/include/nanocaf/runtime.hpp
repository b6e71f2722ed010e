// The runtime of one node: the actor system, the component actors, the route table and the
// session actors. It knows nothing of sockets: the gateway (or nanocaf::server, which owns
// both) opens a session per connection through the framework's private wiring.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nanocaf/bytes.hpp"
#include "nanocaf/call.hpp"
#include "nanocaf/codec/route_dictionary.hpp"
#include "nanocaf/component.hpp"
#include "nanocaf/metrics.hpp"
#include "nanocaf/pipeline.hpp"
#include "nanocaf/serialize.hpp"

namespace caf {
class actor;
class actor_system;
} // namespace caf

namespace nanocaf {

namespace wiring {
struct runtime_access;
}

/// Gets the session and the raw handshake body; returns an error text to refuse the client
/// (the connection is closed without a reply), or nullopt to accept it.
using handshake_validator =
  std::function<std::optional<std::string>(const session&, std::string_view raw)>;

struct runtime_options {
  /// Client heartbeat H: the server sends one every H from accept and drops a client silent
  /// for more than 2.5H (checked every H/8, so it goes between 2.5H and about 2.6H, within
  /// nano's 2H-3H window). The half interval keeps nano's browser client, whose heartbeats can
  /// be 2H apart plus timer delays. Sent to clients in the handshake.
  std::chrono::milliseconds heartbeat = std::chrono::seconds(30);
  /// A client that has not sent its handshake and its handshake ack within this time is closed.
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
  serializer_kind serializer = serializer_kind::json;
  codec::route_dictionary dictionary;
  handshake_validator validator;
  std::shared_ptr<const pipeline> hooks;
  /// Extension: failed requests get {"code":n,"error":"..."} instead of silence.
  bool error_replies = true;
  /// Goes into the high bits of session ids; distinct per gate. Default: pid % 1024.
  std::optional<std::uint16_t> node_id;
  /// Payload bytes one session may have queued for its handlers; a client that sends faster
  /// than its handlers run is closed when it exceeds this, so no mailbox grows without bound.
  std::size_t max_inflight_bytes = 4u << 20;
  /// Packets per second a client may send on average (any type: heartbeats and control
  /// packets count too), with bursts up to `rate_burst`; a client over it is kicked with the
  /// reason "rate limit exceeded". The default is far above what a game client sends (the
  /// chat page sends under 2 a second, a 60 Hz input loop 60) and far below a flood; 0: no
  /// limit, as nano (benchmarks).
  double rate_limit = 100;
  double rate_burst = 400; // 0: twice the rate
  /// Deliveries the broadcasts of one client's requests may cause per second (a group
  /// broadcast made while handling that client's message costs one per member), with bursts
  /// of the same size; a client over it is kicked with "rate limit exceeded". Keeps one client
  /// from making every other client wait. 0: no limit.
  double fanout_limit = 20000;
  /// JSON from clients (handler payloads, handshake bodies) nested deeper than this many
  /// arrays or objects is refused with a 400 (spec of the extension: docs/protocol.md).
  std::size_t max_json_depth = default_max_json_depth;
  /// Bytes of one client's state (keys plus values as JSON text, see session::set): a set
  /// past it fails with errc::state_too_large. Every node a client's requests reach holds a
  /// copy, and a node new to the client gets it with the request.
  std::size_t max_client_state = 64 * 1024;

  /// CAF scheduler threads (0: one per core).
  std::size_t worker_threads = 0;
  /// CAF scheduling: "sharing" (one queue; idle workers yield a few times, then sleep until
  /// work comes; our own scheduler module, lighter per job than CAF's sharing policy), "io"
  /// (that queue, but while a gateway with one Asio thread runs, the actors run on that thread
  /// between its reads and writes: no hand-off between threads; for a process on one core),
  /// "stealing" (CAF's default: a queue per worker; idle workers poll, then nap 50 us at a
  /// time), or "auto": io when the process may run on one core only (taskset, cpuset), sharing
  /// on machines with up to 4 cores, where polling workers take the core from the Asio and
  /// gRPC threads (2 cores: a gate and backend pair did 50 % more requests per second and
  /// answered a lone client in 490 instead of 730 us), stealing on bigger ones.
  std::string scheduler_policy = "auto";
  /// Where this node's metrics go; default: a registry of its own (runtime::metrics()).
  /// Share one between runtimes to serve them on one endpoint.
  std::shared_ptr<metrics::registry> metrics;
};

class runtime {
public:
  explicit runtime(runtime_options options = {});
  /// Destroy a runtime on the thread that created it: CAF 0.17's actor system keeps a
  /// thread-local reference on its creating thread and waits for it when it is destroyed.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Registers a component before start(); routes are "<name>.<handler name>".
  void add(std::shared_ptr<component> c, component_options options = {});
  template <class C, class... Ts>
  std::shared_ptr<C> add(component_options options, Ts&&... xs) {
    auto c = std::make_shared<C>(std::forward<Ts>(xs)...);
    if (options.name.empty())
      options.name = default_service_name(typeid(C).name());
    add(c, std::move(options));
    return c;
  }

  /// Spawns the component actors, runs init then after_init in registration order. Throws
  /// std::invalid_argument for a duplicate service or a component without handlers.
  void start();
  /// Runs before_shutdown then shutdown in reverse order, ends every actor. Idempotent.
  void stop();

  /// True when a component of this node handles `route` (clients or, for server-only
  /// handlers, calls).
  bool has_route(const std::string& route) const;
  /// Request/reply to `route`, here or on another node; `done` runs once: on the calling
  /// component's actor when called from one (a handler, timer or task), else on any thread.
  void call(std::optional<session> client, const std::string& route, std::string payload,
            std::chrono::milliseconds timeout, call_handler done);
  /// The local service names, sorted (what a node advertises to its cluster).
  std::vector<std::string> services() const;

  /// Runs `fn` on the actor of service `name`; false when there is no such service.
  bool invoke(const std::string& service, std::function<void()> fn);

  std::size_t live_sessions() const noexcept;
  std::vector<std::string> routes() const;
  const runtime_options& options() const noexcept;
  /// This node's metrics: the runtime's own, and any the gateway, the cluster or components
  /// declare. Serve them with nanocaf::metrics_endpoint.
  metrics::registry& metrics() noexcept;
  caf::actor_system& system();

  /// True from start() on.
  bool started() const noexcept;

private:
  friend class component;
  // The service name of a component registered without one: its type's name.
  static std::string default_service_name(const char* mangled);
  friend struct wiring::runtime_access; // the gateway's and the cluster's hooks (wiring/runtime.hpp)
  // component::on_session_closed once the runtime runs.
  void add_session_closed_hook(const caf::actor& owner, std::function<void(const session&)> fn);
  // call() without the hand-over to the calling actor: `done` runs on any thread.
  void call_from_anywhere(std::optional<session> client, const std::string& route,
                          std::string payload, std::chrono::milliseconds timeout,
                          call_handler done);

  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace nanocaf
