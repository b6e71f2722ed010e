// The client bridge to one remote node: an actor that owns the gRPC channel and issues async
// calls with deadlines. Calls for one session go out one at a time, in order (nano's gate
// blocked per call, which kept that order); calls for different sessions run in parallel.
// One-way messages (nano's HandleRequest, HandlePush, ... and our Kick, Bind) travel in Relay
// batches to nanocaf peers: what queues while a batch is out goes in the next one, so under
// load one call carries many messages. A peer that answers UNIMPLEMENTED (a Go nano node) gets
// them as nano's unary calls from then on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <grpcpp/grpcpp.h>

#include "detail/channel_keeper.hpp"
#include "detail/security.hpp"
#include "nanocaf/metrics.hpp"
#include "nanocaf/proto/cluster.grpc.pb.h"
#include "nanocaf/proto/nanocaf_cluster.grpc.pb.h"

namespace nanocaf::cluster::detail {

/// The stubs of one gRPC channel to a peer.
struct channel_stubs {
  std::unique_ptr<clusterpb::Member::Stub> member;
  std::unique_ptr<clusterpb::Master::Stub> master;
  std::unique_ptr<nanocaf::cluster::Gate::Stub> gate;
  std::unique_ptr<nanocaf::cluster::Peer::Stub> peer;
  std::unique_ptr<nanocaf::cluster::Relay::Stub> relay;
};

/// A small pool of channels to one peer, used in turn, and the deadline of every call.
struct stubs {
  std::vector<channel_stubs> pool;
  std::size_t next = 0;
  std::chrono::milliseconds timeout;
  std::shared_ptr<const node_security> security; // signs every call
  std::shared_ptr<channel_keeper> channels; // counts the calls as users; may be null

  channel_stubs& pick() { return pool[next++ % pool.size()]; }
};

/// Channels per peer: calls spread over them, so one slow HTTP/2 connection does not hold up
/// every session.
inline constexpr std::size_t channels_per_peer = 2;

/// Completion of one call, on a gRPC thread: it only hands the status back to the peer actor.
using call_done = std::function<void(const grpc::Status&)>;

/// Why a call or message to a peer failed: gRPC's status code (UNAVAILABLE when the peer left
/// before it went out, RESOURCE_EXHAUSTED when its session's queue was full) and a text for
/// the log. Decisions read the code; no client ever sees the text.
struct call_failure {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string text;
};
using failure_handler = std::function<void(const call_failure&)>;
/// "<code> <text>", for log lines.
inline std::string describe(const call_failure& f) {
  return std::to_string(static_cast<int>(f.code)) + " " + f.text;
}

/// One call. `start` issues it on the stubs and arranges for `done` to run when it completes;
/// `failed` runs on the peer actor when it fails or when the peer goes away first.
/// The ordering key of membership calls (NewMember, DelMember) to one peer: they apply in the
/// order sent. Session ids stay below 2^52, so it never meets one.
inline constexpr std::int64_t membership_queue = INT64_MAX;

/// Keys from here up are lanes of one message each: a message about no client (a call made
/// for none, and its reply) goes in a batch like the others but in no order (key 0 would
/// send it as a unary call). Below membership_queue and above every session id.
inline constexpr std::int64_t single_message_lanes = std::int64_t{1} << 60;
inline std::int64_t lane_of(std::int64_t session, std::uint64_t unique) noexcept {
  return session != 0 ? session
                      : single_message_lanes + static_cast<std::int64_t>(unique % (std::uint64_t{1} << 59));
}

struct peer_job {
  std::int64_t session = 0; // calls with the same key run one at a time, in order; 0: no order
  std::function<void(stubs&, call_done)> start; // a unary call (empty for a one-way message)
  /// A one-way message, sent in a Relay batch or, to a nano node, as its unary call.
  std::optional<nanocaf::cluster::Envelope> envelope;
  failure_handler failed;
  std::chrono::steady_clock::time_point started; // set when it goes out
};

/// A job for a one-way message about client session `session` (its gate's session id).
inline peer_job message_job(std::int64_t session, nanocaf::cluster::Envelope envelope,
                            failure_handler failed = {}) {
  peer_job job;
  job.session = session;
  job.envelope = std::move(envelope);
  job.failed = std::move(failed);
  return job;
}

/// Spawns the bridge to `address`. It ends on exit_reason::user_shutdown (the member left);
/// then every queued or unfinished job's `failed` runs.
/// What every bridge of one node shares.
struct peer_settings {
  std::chrono::milliseconds timeout;    // deadline of every call
  metrics::registry* registry = nullptr; // nanocaf_cluster_rpcs_total and _rpc_seconds by peer
  std::shared_ptr<const node_security> security;
  /// Calls accepted and not yet completed, over all bridges (a graceful stop waits for 0);
  /// may be null.
  std::shared_ptr<std::atomic<std::int64_t>> calls_in_flight;
  /// Keeps the channels, counts bridges and calls (see channel_keeper); may be null.
  std::shared_ptr<channel_keeper> channels;
  bool batches = true; // send one-way messages in Relay batches (until UNIMPLEMENTED)
  /// Told reachability_atom(address, reachable) when the peer's connections all fail (its
  /// process died: connections refused) and when one works again; may be null.
  caf::actor watcher;
  /// How often the channels' state is looked at (and an idle one asked to connect).
  std::chrono::milliseconds probe_interval{250};
};

/// peer -> watcher: (address, reachable).
using reachability_atom = caf::atom_constant<caf::atom("reachable")>;

caf::actor spawn_peer(caf::actor_system& sys, const std::string& address,
                      const peer_settings& settings);

/// Runs an async unary call: `method(stub, ctx, req, resp, cb)` on a heap call object that
/// lives until completion; `on_reply` gets the status and the response on a gRPC thread.
/// Metadata sent with a call (nanocaf's own hints to nanocaf peers; Go nodes ignore them).
using call_metadata = std::vector<std::pair<std::string, std::string>>;

/// The heartbeat period a nanocaf member announces to its master, in milliseconds. A member
/// that sends none (a Go nano node) is taken to beat at nano's default, 30 s.
inline constexpr const char* heartbeat_metadata_key = "nanocaf-heartbeat-ms";

/// On DelMember: "drain" when the member unregistered and still finishes its requests.
inline constexpr const char* leave_metadata_key = "nanocaf-leave";

template <class Req, class Resp, class Method>
void async_call(const stubs& io, std::chrono::milliseconds timeout, Req req, Method method,
                std::function<void(const grpc::Status&, Resp&)> on_reply,
                const call_metadata& metadata = {}) {
  struct call {
    explicit call(std::shared_ptr<channel_keeper> keeper) : user(std::move(keeper)) {}
    channel_user user; // first: released after everything below
    grpc::ClientContext ctx;
    Req req;
    Resp resp;
    std::function<void(const grpc::Status&, Resp&)> on_reply;
  };
  auto c = std::make_shared<call>(io.channels);
  c->req = std::move(req);
  c->on_reply = std::move(on_reply);
  c->ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  io.security->sign(c->ctx);
  for (auto& [key, value] : metadata)
    c->ctx.AddMetadata(key, value);
  method(&c->ctx, &c->req, &c->resp, [c](grpc::Status st) { c->on_reply(st, c->resp); });
}

/// A job for one unary call whose reply body is not needed. `caller(io, ctx, req, resp, cb)`
/// picks the method (see NANOCAF_CALL).
template <class Resp, class Req, class Caller>
peer_job make_job(std::int64_t session, Req req, Caller caller,
                  failure_handler failed = {}, call_metadata metadata = {}) {
  peer_job job;
  job.session = session;
  job.failed = std::move(failed);
  job.start = [req = std::move(req), caller, metadata = std::move(metadata)](stubs& io,
                                                                            call_done done) {
    async_call<Req, Resp>(
      io, io.timeout, req,
      [&io, caller](auto* ctx, auto* rq, auto* rs, auto cb) { caller(io, ctx, rq, rs, std::move(cb)); },
      [done](const grpc::Status& st, Resp&) { done(st); }, metadata);
  };
  return job;
}

} // namespace nanocaf::cluster::detail

/// The caller of make_job for `stub_name` (member or master) method `method`.
#define NANOCAF_CALL(stub_name, method)                                                       \
  [](::nanocaf::cluster::detail::stubs& io, auto* ctx, auto* rq, auto* rs, auto cb) {         \
    io.pick().stub_name->async()->method(ctx, rq, rs, std::move(cb));                                \
  }

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::cluster::detail::peer_job)
