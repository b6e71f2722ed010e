// The two actor behaviours of the runtime.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "nanocaf/component.hpp"

namespace nanocaf::detail {

struct node_context;
struct session_core;
class service_host;

struct service_state {
  service_state() = default;
  service_state(const service_state&) = delete;
  service_state& operator=(const service_state&) = delete;
  ~service_state();

  std::shared_ptr<component> comp;
  std::shared_ptr<service_host> host;
  caf::actor handle; // this actor, marked "current" while user code runs
  static inline const char* name = "nanocaf.service";
};

/// Hosts one component: runs its handlers, timers, tasks and lifecycle hooks one at a time.
caf::behavior service_actor(caf::stateful_actor<service_state>* self,
                            std::shared_ptr<component> comp);

/// One per client connection: handshake, ack, heartbeats, decode and dispatch (spec 1.6-1.8).
/// It takes a packet_batch, a session_task_msg, and (atom, reason) events from the session
/// clock and the gateway.
caf::actor spawn_session_actor(caf::actor_system& sys, std::shared_ptr<session_core> core);

/// Steady-clock milliseconds, the unit of the session timing fields.
std::int64_t now_ms();

/// One per runtime: every session's heartbeat and handshake timeout, from one periodic tick
/// instead of two timers per session (which CAF 0.17 keeps, with the actor, until they fire).
caf::behavior session_clock(caf::event_based_actor* self, std::shared_ptr<node_context> ctx);

} // namespace nanocaf::detail
