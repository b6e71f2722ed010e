// A client's state and how its copies on other nodes are kept up to date (the protocol is
// described in nanocaf/wiring/client_state.hpp).
#include <algorithm>
#include <limits>

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
  return core.replicas.emplace_back(wiring::replica{node, 0, unknown_version, 0});
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

errc change_state(session_core& core, state_change change, bool emit) {
  std::lock_guard<std::mutex> guard{core.mu};
  auto result = apply_locked(core, change);
  if (result == outcome::too_large)
    return errc::state_too_large;
  if (result == outcome::unchanged || !emit || !core.out->forwards_messages())
    return errc::ok;
  // Numbered and sent under the lock: the gate gets one session's changes in their order.
  change.seq = core.next_seq++;
  core.unacked.push_back(change);
  core.out->changed(change);
  return errc::ok;
}

} // namespace nanocaf::detail

namespace nanocaf::wiring {

using detail::session_core;

forward_state prepare_forward(const session& s, const std::string& node, std::uint64_t epoch) {
  auto& core = *s.core();
  std::lock_guard<std::mutex> guard{core.mu};
  auto& r = detail::replica_of(core, node);
  if (r.epoch != epoch) {
    if (r.epoch != 0) // the node registered again: a new process, with none of our state
      r.applied_seq = 0;
    r.epoch = epoch;
    r.version = detail::unknown_version;
  }
  forward_state f{core.state_version, r.applied_seq, std::nullopt};
  if (r.version != core.state_version) {
    f.state = detail::snapshot_locked(core);
    f.state->applied_seq = r.applied_seq;
    r.version = core.state_version;
  }
  return f;
}

void apply_remote_change(const session& s, const std::string& node, const state_change& change) {
  auto& core = *s.core();
  std::lock_guard<std::mutex> guard{core.mu};
  auto& r = detail::replica_of(core, node);
  if (change.what == state_change::kind::resync) {
    r.version = detail::unknown_version;
    return;
  }
  auto before = core.state_version;
  auto result = detail::apply_locked(core, change);
  r.applied_seq = std::max(r.applied_seq, change.seq);
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
  std::lock_guard<std::mutex> guard{s.core()->mu};
  return detail::snapshot_locked(*s.core());
}

void adopt(const session& s, const client_state& state) {
  auto& core = *s.core();
  std::lock_guard<std::mutex> guard{core.mu};
  auto data = nlohmann::json::parse(state.data, nullptr, false);
  core.data = data.is_object() ? std::move(data) : nlohmann::json::object();
  core.data_bytes = detail::object_size(core.data);
  core.uid.store(state.uid, std::memory_order_relaxed);
  core.route_bindings.clear();
  for (auto& [service, node] : state.routes)
    core.route_bindings[service] = node;
  core.state_version = state.version;
  // What this node changed after the gate made its copy: replayed, so no write is lost.
  while (!core.unacked.empty() && core.unacked.front().seq <= state.applied_seq)
    core.unacked.pop_front();
  for (auto& change : core.unacked)
    detail::apply_locked(core, change);
}

void acknowledge(const session& s, std::uint64_t seq) {
  auto& core = *s.core();
  std::lock_guard<std::mutex> guard{core.mu};
  while (!core.unacked.empty() && core.unacked.front().seq <= seq)
    core.unacked.pop_front();
}

std::uint64_t state_version(const session& s) {
  std::lock_guard<std::mutex> guard{s.core()->mu};
  return s.core()->state_version;
}

void remember_node(const session& s, const std::string& service, const std::string& node) {
  std::lock_guard<std::mutex> guard{s.core()->mu};
  s.core()->route_bindings[service] = node;
}

void forget_node(const session& s, const std::string& service) {
  std::lock_guard<std::mutex> guard{s.core()->mu};
  s.core()->route_bindings.erase(service);
}

} // namespace nanocaf::wiring
