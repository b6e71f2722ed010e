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

#include "nanocaf/outlet.hpp"

namespace nanocaf {
class session;
}

namespace nanocaf::wiring {

/// The gate's record of one node serving a client.
struct replica {
  std::string node;
  std::uint64_t epoch = 0;   // the node's registration the record is about; 0: not known yet
  std::uint64_t version = 0; // the version the node has; UINT64_MAX: unknown
  std::uint64_t applied_seq = 0; // the last change from that node the gate applied
};

/// A whole copy of a client's state.
struct client_state {
  std::uint64_t version = 0;
  std::uint64_t applied_seq = 0; // of the receiver's changes: those after it are replayed
  std::int64_t uid = 0;
  std::string data; // a JSON object
  std::vector<std::pair<std::string, std::string>> routes; // service -> node
};

/// What a forwarded request carries: the gate's version, the receiver's last applied change,
/// and the whole state when the receiver may not have that version.
struct forward_state {
  std::uint64_t version = 0;
  std::uint64_t applied_seq = 0;
  std::optional<client_state> state;
};

/// On the client's gate, for a request about to go to `node` (registered as `epoch`: a node
/// that registers again starts from nothing).
forward_state prepare_forward(const session& s, const std::string& node, std::uint64_t epoch);

/// On the client's gate: a change made on `node`. A resync makes the next request to that
/// node carry the whole state.
void apply_remote_change(const session& s, const std::string& node, const state_change& change);

/// A whole copy, for a call or a message sent on the client's behalf from a node that is not
/// its gate (applied_seq 0: the receiver has no changes of its own to replay).
client_state snapshot(const session& s);

/// On a remote session: takes the gate's copy, then replays this node's changes after
/// `state.applied_seq` on top of it.
void adopt(const session& s, const client_state& state);

/// On a remote session: the gate applied this node's changes up to `seq`.
void acknowledge(const session& s, std::uint64_t seq);

std::uint64_t state_version(const session& s);

/// Routing's own sticky choice for `service`, kept on this node only (bind_node travels).
void remember_node(const session& s, const std::string& service, const std::string& node);
void forget_node(const session& s, const std::string& service);

} // namespace nanocaf::wiring
