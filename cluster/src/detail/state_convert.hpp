// A client's state and its changes <-> their protobuf messages (nanocaf_cluster.proto).
#pragma once

#include "nanocaf/outlet.hpp"
#include "nanocaf/proto/nanocaf_cluster.pb.h"
#include "nanocaf/wiring/client_state.hpp"

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

} // namespace nanocaf::cluster::detail
