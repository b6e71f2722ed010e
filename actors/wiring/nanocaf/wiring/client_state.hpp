// How a client's state follows it across the cluster: what the cluster module asks of a
// session. Not installed: only nanocaf's modules call it (docs/cluster.md, "Client state").
//
// The client's gate holds the authoritative copy. Every copy carries a version that each
// change bumps by one. A node that changes a remote session's state sends the change to the
// gate, in the same ordered stream as its replies, numbered per (client, node); the gate
// applies it before it delivers what follows. Each request the gate forwards carries the
// gate's version and the last change of the receiving node it applied, plus the whole state
// when that node may not have this version. The receiver replays its own changes the gate has
// not applied yet on top of that copy, so nothing it wrote is lost, and refuses a request
// whose version it has not reached.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nanocaf/wiring/outlet.hpp"

namespace nanocaf {
class session;
}

namespace nanocaf::wiring {

/// The gate's record of one node serving a client.
struct replica {
  std::string node;
  std::uint64_t epoch = 0;   // the node's registration the record is about; 0: not known yet
  std::uint64_t version = 0; // the version the node has; UINT64_MAX: unknown
  std::uint64_t replica_id = 0;  // the node's copy whose changes the gate applies
  std::uint64_t applied_seq = 0; // the last of its changes the gate applied
};

/// A whole copy of a client's state.
struct client_state {
  std::uint64_t version = 0;
  /// From the gate: the receiver's copy (replica_id) and the last of its changes applied;
  /// the receiver replays and sends again those after it (from_gate: the authoritative copy).
  std::uint64_t replica_id = 0;
  std::uint64_t applied_seq = 0;
  bool from_gate = false;
  std::int64_t uid = 0;
  std::string data; // a JSON object
  std::vector<std::pair<std::string, std::string>> routes; // service -> node
};

/// What a forwarded request carries: the gate's version, the receiver's last applied change,
/// and the whole state when the receiver may not have that version.
struct forward_state {
  std::uint64_t version = 0;
  std::uint64_t replica_id = 0;
  std::uint64_t applied_seq = 0;
  std::optional<client_state> state;
};

/// On the client's gate, for a request about to go to `node` (registered as `epoch`: a node
/// that registers again starts from nothing).
forward_state prepare_forward(const session& s, const std::string& node, std::uint64_t epoch);

/// On the client's gate: a change made on `node`. Applied once, in the order its copy made
/// them; after a gap (a change lost on the way) the next request to that node carries the
/// whole state, and the node sends what the gate lacks again. A resync asks for the same.
void apply_remote_change(const session& s, const std::string& node, const state_change& change);

/// A whole copy, for a call or a message sent on the client's behalf from a node that is not
/// its gate (replica_id 0).
client_state snapshot(const session& s);

/// On a remote session: takes a copy. From the gate: the copy, then this node's changes after
/// `state.applied_seq` replayed on top of it and sent again (the gate ignores those it has).
/// From another node (not from_gate): only when this node has no copy of its own yet.
void adopt(const session& s, const client_state& state);

/// On a remote session: the gate applied this copy's changes up to `seq` (when `replica_id`
/// is this copy's).
void acknowledge(const session& s, std::uint64_t replica_id, std::uint64_t seq);

std::uint64_t state_version(const session& s);

/// On the caller of a call made for `client`: the changes of `node`'s copy from the reply. On
/// the client's gate all of them, as from that node (each once, in order); on another node's
/// copy only the handler's, the last `made` (the gate sends the rest with the next request).
void apply_call_changes(const session& client, const std::string& node,
                        const std::vector<state_change>& changes, std::size_t made);

/// Routing's own sticky choice for `service`, kept on this node only (bind_node pins travel).
void remember_node(const session& s, const std::string& service, const std::string& node);
/// Drops the pin and the sticky choice for `service` (its node left).
void forget_node(const session& s, const std::string& service);

} // namespace nanocaf::wiring
