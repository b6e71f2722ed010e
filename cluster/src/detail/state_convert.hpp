// A client's state and its changes <-> their protobuf messages (nanocaf_cluster.proto).
#pragma once

#include <utility>
#include <vector>

#include "nanocaf/call.hpp"
#include "nanocaf/proto/nanocaf_cluster.pb.h"
#include "nanocaf/wiring/client_state.hpp"
#include "nanocaf/wiring/outlet.hpp"

namespace nanocaf::cluster::detail {

inline void to_proto(const wiring::client_state& st, nanocaf::cluster::ClientState& p) {
  p.set_version(st.version);
  p.set_appliedseq(st.applied_seq);
  p.set_replicaid(st.replica_id);
  p.set_fromgate(st.from_gate);
  p.set_uid(st.uid);
  p.set_data(st.data);
  for (auto& [service, node] : st.routes)
    (*p.mutable_routes())[service] = node;
}

inline wiring::client_state from_proto(const nanocaf::cluster::ClientState& p) {
  wiring::client_state st;
  st.version = p.version();
  st.applied_seq = p.appliedseq();
  st.replica_id = p.replicaid();
  st.from_gate = p.fromgate();
  st.uid = p.uid();
  st.data = p.data();
  st.routes.assign(p.routes().begin(), p.routes().end());
  return st;
}

inline void to_proto(const state_change& c, nanocaf::cluster::StateChange& p) {
  p.set_kind(static_cast<nanocaf::cluster::StateChange::Kind>(c.what));
  p.set_seq(c.seq);
  p.set_replica(c.replica);
  p.set_key(c.key);
  if (!c.value.is_null())
    p.set_value(c.value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  p.set_uid(c.uid);
}

inline state_change from_proto(const nanocaf::cluster::StateChange& p) {
  state_change c;
  c.what = static_cast<state_change::kind>(p.kind());
  c.seq = p.seq();
  c.replica = p.replica();
  c.key = p.key();
  if (!p.value().empty())
    c.value = nlohmann::json::parse(p.value(), nullptr, false);
  if (c.value.is_discarded())
    c.value = nullptr; // not JSON: nothing
  c.uid = p.uid();
  return c;
}

/// A handler's reply to a call from another node, with the changes it made to the client.
inline void to_proto(call_reply&& r, nanocaf::cluster::CallReply& p) {
  p.set_code(r.code);
  p.set_error(std::move(r.error));
  p.set_data(std::move(r.data));
  p.set_errorid(std::move(r.error_id));
  if (r.changes) {
    for (auto& change : r.changes->changes) {
      auto& c = *p.add_changes();
      to_proto(change, c);
      c.set_node(r.changes->node);
    }
    p.set_changesmade(static_cast<std::uint32_t>(r.changes->made));
  }
}

/// On the caller: the reply, after the callee's changes went into the caller's copy of the
/// client's state (`client`, when the call was made for one), so its callback sees them.
inline call_reply from_proto(nanocaf::cluster::CallReply& p, const session* client) {
  if (client != nullptr && p.changes_size() > 0) {
    std::vector<state_change> changes;
    for (auto& c : p.changes())
      changes.push_back(from_proto(c));
    wiring::apply_call_changes(*client, p.changes(0).node(), changes, p.changesmade());
  }
  return {p.code(), p.error(), std::move(*p.mutable_data()), p.errorid()};
}

} // namespace nanocaf::cluster::detail
