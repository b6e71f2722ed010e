// A client's state and how its copies on other nodes are kept up to date (the protocol is
// described in nanocaf/wiring/client_state.hpp).
#include <algorithm>
#include <limits>
#include <random>

#include "detail/session_core.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/wiring/client_state.hpp"

namespace nanocaf::detail {

namespace {

constexpr auto unknown_version = std::numeric_limits<std::uint64_t>::max();

// What a value costs against max_client_state: its JSON text (bad UTF-8 replaced, never thrown).
std::size_t text_size(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).size();
}

std::size_t entry_size(const std::string& key, const nlohmann::json& value) {
  return key.size() + text_size(value);
}

std::size_t object_size(const nlohmann::json& object) {
  std::size_t total = 0;
  for (auto& [key, value] : object.items())
    total += entry_size(key, value);
  return total;
}

enum class outcome { changed, unchanged, too_large };

// Applies one change to `core` (its lock held); bumps the version when something changed.
outcome apply_locked(session_core& core, const state_change& c) {
  using kind = state_change::kind;
  auto limit = core.ctx->options.max_client_state;
  switch (c.what) {
    case kind::bind:
      core.uid.store(c.uid, std::memory_order_relaxed);
      break;
    case kind::set: {
      std::size_t old = 0;
      if (auto i = core.data.find(c.key); i != core.data.end())
        old = entry_size(c.key, *i);
      auto size = core.data_bytes - old + entry_size(c.key, c.value);
      if (size > limit)
        return outcome::too_large;
      core.data[c.key] = c.value;
      core.data_bytes = size;
      break;
    }
    case kind::remove: {
      auto i = core.data.find(c.key);
      if (i == core.data.end())
        return outcome::unchanged;
      core.data_bytes -= entry_size(c.key, *i);
      core.data.erase(i);
      break;
    }
    case kind::clear:
      core.uid.store(0, std::memory_order_relaxed);
      core.data = nlohmann::json::object();
      core.data_bytes = 0;
      break;
    case kind::restore: {
      if (!c.value.is_object())
        return outcome::too_large;
      auto size = object_size(c.value);
      if (size > limit)
        return outcome::too_large;
      core.data = c.value;
      core.data_bytes = size;
      break;
    }
    case kind::route:
      if (!c.value.is_string())
        return outcome::unchanged;
      core.route_bindings[c.key] = c.value.get<std::string>();
      break;
    case kind::unroute:
      if (core.route_bindings.erase(c.key) == 0)
        return outcome::unchanged;
      break;
    case kind::resync:
      return outcome::unchanged;
  }
  ++core.state_version;
  return outcome::changed;
}

wiring::replica& replica_of(session_core& core, const std::string& node) {
  for (auto& r : core.replicas)
    if (r.node == node)
      return r;
  return core.replicas.emplace_back(wiring::replica{node, 0, unknown_version, 0, 0});
}

wiring::client_state snapshot_locked(const session_core& core) {
  wiring::client_state st;
  st.version = core.state_version;
  st.uid = core.uid.load(std::memory_order_relaxed);
  st.data = core.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  st.routes.assign(core.route_bindings.begin(), core.route_bindings.end());
  return st;
}

} // namespace

// A remote session's changes kept for sending again: more means the gate has not answered
// for long (its node gone, or a gate that cannot take them: nano's, unary calls).
constexpr std::size_t max_unacked = 1024;

std::uint64_t new_replica_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t id = 0;
  while (id == 0)
    id = rng();
  return id;
}

errc change_state(session_core& core, state_change change, bool emit, state_change* emitted) {
  std::lock_guard<std::mutex> guard{core.mu};
  auto result = apply_locked(core, change);
  if (result == outcome::too_large)
    return errc::state_too_large;
  if (result == outcome::unchanged || !emit || !core.out->forwards_messages())
    return errc::ok;
  // Numbered and sent under the lock: the gate gets one copy's changes in their order.
  if (core.replica_id == 0)
    core.replica_id = new_replica_id();
  change.replica = core.replica_id;
  change.seq = core.next_seq++;
  core.unacked.push_back(change);
  if (core.unacked.size() > max_unacked)
    core.unacked.pop_front();
  core.out->changed(change);
  if (emitted)
    *emitted = change;
  return errc::ok;
}

} // namespace nanocaf::detail

namespace nanocaf::wiring {

using detail::session_core;

forward_state prepare_forward(const session& s, const std::string& node, std::uint64_t epoch) {
  auto& core = *detail::core_of(s);
  std::lock_guard<std::mutex> guard{core.mu};
  auto& r = detail::replica_of(core, node);
  if (r.epoch != epoch) { // registered again (maybe a new process): send the whole state
    r.epoch = epoch;
    r.version = detail::unknown_version;
  }
  forward_state f{core.state_version, r.replica_id, r.applied_seq, std::nullopt};
  if (r.version != core.state_version) {
    f.state = detail::snapshot_locked(core);
    f.state->from_gate = true;
    f.state->replica_id = r.replica_id;
    f.state->applied_seq = r.applied_seq;
    r.version = core.state_version;
  }
  return f;
}

void apply_remote_change(const session& s, const std::string& node, const state_change& change) {
  auto& core = *detail::core_of(s);
  std::lock_guard<std::mutex> guard{core.mu};
  auto& r = detail::replica_of(core, node);
  if (change.what == state_change::kind::resync) {
    r.version = detail::unknown_version;
    return;
  }
  if (change.replica != r.replica_id) { // another copy on that node (a restart): from its start
    r.replica_id = change.replica;
    r.applied_seq = 0;
  }
  if (change.seq <= r.applied_seq)
    return; // sent again: applied already
  if (change.seq != r.applied_seq + 1) {
    // One went missing on the way: the node gets the whole state with its next request and
    // sends again what follows r.applied_seq.
    r.version = detail::unknown_version;
    return;
  }
  auto before = core.state_version;
  auto result = detail::apply_locked(core, change);
  r.applied_seq = change.seq;
  if (result == detail::outcome::too_large) {
    // The node took it under a larger bound: it gets this gate's copy back with its next request.
    log::warn("session ", core.id, ": a change from ", node,
              " passes this node's max_client_state; not applied");
    r.version = detail::unknown_version;
  } else if (r.version == before) {
    r.version = core.state_version; // the node made this change: it has it
  }
}

client_state snapshot(const session& s) {
  std::lock_guard<std::mutex> guard{detail::core_of(s)->mu};
  return detail::snapshot_locked(*detail::core_of(s));
}

void adopt(const session& s, const client_state& state) {
  auto& core = *detail::core_of(s);
  std::lock_guard<std::mutex> guard{core.mu};
  bool has_own = core.state_version != 0 || core.replica_id != 0 || !core.data.empty();
  if (!state.from_gate && has_own)
    return; // the gate keeps this copy up to date; another node's view may be older
  auto data = nlohmann::json::parse(state.data, nullptr, false);
  core.data = data.is_object() ? std::move(data) : nlohmann::json::object();
  core.data_bytes = detail::object_size(core.data);
  core.uid.store(state.uid, std::memory_order_relaxed);
  core.route_bindings.clear();
  for (auto& [service, node] : state.routes)
    core.route_bindings[service] = node;
  core.state_version = state.version;
  if (!state.from_gate)
    return;
  // What this copy changed that the gate had not applied: replayed, so no write is lost, and
  // sent again, in case it was lost on the way (the gate ignores what it has).
  auto applied = state.replica_id == core.replica_id ? state.applied_seq : 0;
  while (!core.unacked.empty() && core.unacked.front().seq <= applied)
    core.unacked.pop_front();
  for (auto& change : core.unacked) {
    detail::apply_locked(core, change);
    core.out->changed(change);
  }
}

void acknowledge(const session& s, std::uint64_t replica_id, std::uint64_t seq) {
  auto& core = *detail::core_of(s);
  std::lock_guard<std::mutex> guard{core.mu};
  if (replica_id != core.replica_id)
    return;
  while (!core.unacked.empty() && core.unacked.front().seq <= seq)
    core.unacked.pop_front();
}

void apply_call_changes(const session& client, const std::string& node,
                        const std::vector<state_change>& changes, std::size_t made) {
  if (!wiring::outlet_of(client)->forwards_messages()) { // the client's gate: the authoritative copy
    for (auto& change : changes)
      apply_remote_change(client, node, change);
    return;
  }
  auto& core = *detail::core_of(client);
  std::lock_guard<std::mutex> guard{core.mu};
  for (auto i = changes.size() - std::min(made, changes.size()); i < changes.size(); ++i)
    detail::apply_locked(core, changes[i]);
}

std::uint64_t state_version(const session& s) {
  std::lock_guard<std::mutex> guard{detail::core_of(s)->mu};
  return detail::core_of(s)->state_version;
}

void remember_node(const session& s, const std::string& service, const std::string& node) {
  std::lock_guard<std::mutex> guard{detail::core_of(s)->mu};
  detail::core_of(s)->sticky_routes[service] = node;
}

void forget_node(const session& s, const std::string& service) {
  std::lock_guard<std::mutex> guard{detail::core_of(s)->mu};
  detail::core_of(s)->route_bindings.erase(service);
  detail::core_of(s)->sticky_routes.erase(service);
}

} // namespace nanocaf::wiring
