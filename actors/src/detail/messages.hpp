// CAF message types and atoms of the runtime (CAF 0.17 spelling). Local only: none of these
// crosses a process, so the unsafe ones are whitelisted instead of made serialisable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "nanocaf/codec/packet.hpp"

namespace nanocaf {
class session;
} // namespace nanocaf

namespace nanocaf::detail {

struct session_core;
struct route_metrics;

/// A decoded Request or Notify, from a session actor to the service actor of its route.
struct dispatch_msg {
  std::shared_ptr<session_core> session;
  std::uint32_t handler = 0;
  std::uint64_t mid = 0; // 0 for a notify
  std::string payload;
  std::size_t cost = 0; // counted in the session's inflight_bytes until handled
  route_metrics* stats = nullptr;
  std::chrono::steady_clock::time_point dispatched;
};

/// A function to run on a component's actor (invoke, on-closed callbacks).
struct task_msg {
  std::function<void()> fn;
};

/// Work for one client session, run on its session actor with the session's handle.
struct session_task_msg {
  std::function<void(const session&)> fn;
};

using packet_batch = std::vector<codec::packet>;

using heartbeat_atom = caf::atom_constant<caf::atom("hbtick")>;
using hs_timeout_atom = caf::atom_constant<caf::atom("hstimeout")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using conn_closed_atom = caf::atom_constant<caf::atom("connclosed")>;
using conn_failed_atom = caf::atom_constant<caf::atom("connfailed")>;
using timer_atom = caf::atom_constant<caf::atom("timer")>;
using lifecycle_atom = caf::atom_constant<caf::atom("lifecycle")>;

enum class lifecycle_stage : std::uint8_t { init, after_init, before_shutdown, shutdown };

} // namespace nanocaf::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::detail::dispatch_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::detail::task_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::detail::session_task_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::detail::packet_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nanocaf::detail::lifecycle_stage)
