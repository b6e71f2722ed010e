// A node's place in a cluster: nano's master/member protocol over gRPC (spec 7). A member
// registers with the master (retrying until it answers), heartbeats, learns which node offers
// which service, forwards messages for services it lacks, and hosts remote sessions for
// clients of other nodes. The master holds membership and evicts silent members; it is a
// member too and may host components and clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nanocaf/runtime.hpp"

namespace nanocaf::cluster {

/// What a node advertises (nano's MemberInfo).
struct member_info {
  std::string label;
  std::string service_address; // its gRPC address, host:port
  std::vector<std::string> services;
};

/// The client a session stands for, the same on every node: its gate's address and its
/// session id there.
struct client_ref {
  std::string gate;
  std::int64_t session_id = 0;
};

/// What a route function sees of one message (or call) for a service this node lacks.
struct route_request {
  const std::string& service; // "room"
  const std::string& route;   // "room.join"
  std::string_view payload;   // as the client (or caller) sent it
  /// The client; not valid() for a call a component made for no client.
  const session& client;
  const client_ref& ref; // the client's gate and its session id there (0: no client)
};

/// Picks the node for a message among `candidates` (all offer its service, sorted by
/// address, the same order on every node); returns its address, or an empty string to drop
/// it (a request gets a 503; a call made for no client goes to a node picked at random).
/// Asked for every message, so it may look at the payload: give every node the same function
/// and it gives every node the same answer. A node pinned with session::bind_node comes first.
/// nano's WithCustomerRemoteServiceRoute saw only the service (and cannot agree across nodes:
/// spec 8.2).
using route_function =
  std::function<std::string(const route_request& request, const std::vector<member_info>& candidates)>;

/// Route function: the same node for a client on every node (its gate session id modulo the
/// candidates); "" for a call made for no client.
std::string route_by_client(const route_request& request, const std::vector<member_info>& candidates);

/// The node for `key` among `candidates` by rendezvous hashing: the same on every node, and
/// when a node joins or leaves only the keys it wins or held (about 1/N) move.
std::string node_for_key(std::string_view key, const std::vector<member_info>& candidates);

/// The key a message is routed by (a room id), or nothing to route it another way.
using key_function = std::function<std::optional<std::string>(const route_request& request)>;

/// Route function: messages with a key go to node_for_key(key); the others to `otherwise`.
/// Rooms live on one node this way: every gate sends "room.*" of room 42 to the same node.
route_function route_by_key(key_function key_of, route_function otherwise = route_by_client);

/// Key function: the JSON field named for the message's route ("room.join") or, failing
/// that, for its service ("room"), e.g. json_field({{"room", "roomId"}}); a string field is
/// the key as it is, an integer its decimal text. No field, or a payload that is not a JSON
/// object (or over 16 KiB, or nested deeper than 64): no key.
key_function json_field(std::map<std::string, std::string> field_by_route_or_service);

struct options {
  /// This node's gRPC address: where it listens and what the others dial. Port 0 is not
  /// allowed here (the others must be able to reach it).
  std::string service_address;
  /// The master's gRPC address; empty on the master itself.
  std::string master_address;
  bool is_master = false;
  std::string label;
  /// Member -> master heartbeat period; the master checks liveness on the same period. With
  /// the defaults a dead member is evicted 4-5 s after its last heartbeat (eviction_misses
  /// periods, plus up to one period of the master's check). The bundled programs' default
  /// (--member-heartbeat) is the same.
  std::chrono::milliseconds heartbeat = std::chrono::seconds(1);
  /// A member silent for this many of its heartbeat periods is evicted by the master (a Go
  /// nano member's period is learned from its heartbeats).
  unsigned eviction_misses = 4;
  /// Registration is retried this often until the master answers.
  std::chrono::milliseconds retry_interval = std::chrono::seconds(1);
  /// Deadline of every node-to-node call; a request forwarded to a node that does not take it
  /// within the deadline is answered with an error reply.
  std::chrono::milliseconds rpc_timeout = std::chrono::seconds(3);
  /// Custom choice of node for each message; default: random, then sticky per client and
  /// service (the choice travels with the client's state). See route_by_key for rooms.
  route_function route;
  /// On stop, after unregistering, how long to wait for requests from other nodes to be
  /// answered and for calls to other nodes (those answers among them) to complete.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(5);
  /// One-way messages to other nanocaf nodes travel in Relay batches (many per gRPC call);
  /// false: one unary call per message, as nano does (for comparison; nano's Go nodes get
  /// unary calls either way).
  bool batches = true;
  /// Largest gRPC message this node takes from another (a Relay batch is at most 1 MiB; a
  /// forwarded request carries one client packet). Larger ones are refused.
  std::size_t max_message_bytes = 4u << 20;
  /// Memory the gRPC server's transports may hold for incoming data: gRPC reads a call's whole
  /// message before the secret is checked, so without a bound one peer could make the node
  /// hold gigabytes.
  std::size_t receive_memory = 64u << 20;
  /// Process-wide: once a heartbeat period, when more than 16 MiB lie free in the allocator
  /// (after a burst of large or refused calls), they are returned to the system (glibc's
  /// malloc_trim), so the node's RSS comes back to its plateau.
  bool trim_memory = true;
  /// Master only: called when a member leaves or is evicted.
  std::function<void(const member_info&)> on_unregister;
  /// On a client's gate: called once for each client whose messages went to a node that is
  /// lost: its connections are refused (the process died; seen within about two
  /// reachability_probe periods), or it left or was evicted. What lived there for the client
  /// (a room) is gone: tell the client (push, kick). Runs on the client's session actor: do
  /// not block.
  std::function<void(const session& client, const member_info& node)> on_node_lost;
  /// How often this node looks at its connections to the nodes it talks to. A node whose
  /// connections are all refused at two looks in a row gets no new messages (requests pending
  /// on it get a 503 at once) until one connects again or the master evicts it.
  std::chrono::milliseconds reachability_probe = std::chrono::milliseconds(250);
  /// A shared secret: sent with every node-to-node call (gRPC metadata nanocaf-cluster-secret)
  /// and required of every call this node serves; a call without it is refused with
  /// UNAUTHENTICATED. Empty: none, as nano (Go nano nodes can only join a cluster without one),
  /// and then anyone who can reach a node's gRPC port can register as a member and be sent
  /// clients' requests, push to or kick any client and call any handler: the node logs a
  /// warning at start. The bundled programs use one by default (--secret-file). Over plain
  /// gRPC the secret crosses the network in clear: use it with `tls`.
  std::string secret;
  /// Process-wide: Debian builds abseil with absl::Mutex's deadlock detector on, which makes
  /// every lock gRPC takes update a global lock graph (2 % of a loaded backend's time) and may
  /// abort the process on a cycle it suspects. node::start() turns it off for the whole
  /// process (absl::SetMutexDeadlockDetectionMode(kIgnore)), as release builds of abseil are;
  /// false leaves abseil's setting alone.
  bool quiet_abseil_deadlock_detector = true;
  /// gRPC over TLS between nodes, PEM files. With `cert` and `key` this node serves TLS and
  /// presents that certificate when it dials; with `ca` it dials over TLS, checks the peers'
  /// certificates against it, and requires callers to present one it signed (mutual TLS).
  /// Every node of a cluster sets all three, or none (nano's insecure gRPC, the default).
  struct tls_files {
    std::string cert;
    std::string key;
    std::string ca;
  } tls;
};

class node {
public:
  /// Installs the cluster into `rt`; call before rt.start().
  node(runtime& rt, options opts);
  /// Stops (unregisters) if still running.
  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Serves gRPC and starts registering (in the background: this does not wait for the
  /// master). Call after rt.start(). Throws std::runtime_error when the address cannot be bound.
  void start();
  /// Leaves gracefully: stops heartbeating, unregisters from the master (bounded by the RPC
  /// deadline) so that no new work is routed here, waits (up to drain_timeout) until the
  /// requests other nodes sent here are answered and the answers delivered, then stops
  /// serving. Call before runtime::stop(). Idempotent.
  void stop();

  /// The other nodes this one knows, sorted by address (a snapshot).
  std::vector<member_info> members() const;
  /// True once the master has accepted this node (always true on the master).
  bool registered() const;
  /// Remote sessions this node holds for clients of other nodes.
  std::size_t remote_sessions() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace nanocaf::cluster
