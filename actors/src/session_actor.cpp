// The session actor: the connection state machine of spec 1.7 and 1.8, and the dispatch of
// decoded requests and notifies to the service actors (spec 2.5).
#include <chrono>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "detail/actors.hpp"
#include "detail/messages.hpp"
#include "detail/node_metrics.hpp"
#include "detail/session_core.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::detail {

using clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch())
    .count();
}

using phase = session_phase;

namespace {

using self_ptr = caf::stateful_actor<session_state>*;

// Closes the connection; the gateway then reports conn_closed, which ends the actor.
void close_session(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.at == phase::closing)
    return;
  st.at = phase::closing;
  st.core->working.store(false, std::memory_order_release);
  log::info("session ", st.core->id, " (", st.core->out->remote_address(), "): closing: ", why);
  st.core->out->close();
}

void on_handshake(self_ptr self, const codec::packet& p) {
  auto& st = self->state;
  auto& ctx = *st.core->ctx;
  st.core->greeted.store(true, std::memory_order_relaxed);
  if (ctx.options.validator) {
    std::optional<std::string> refusal;
    try {
      refusal = ctx.options.validator(session{st.core}, p.body);
    } catch (const std::exception& e) {
      refusal = std::string{"validator threw: "} + e.what();
    }
    if (refusal) {
      ctx.stats->handshakes_refused.inc();
      close_session(self, "handshake refused: " + *refusal);
      return;
    }
  }
  ctx.stats->handshakes.inc();
  st.core->out->send(ctx.handshake_response);
  st.at = phase::handshake; // a second handshake needs a new ack before Data, as the first
  st.core->working.store(false, std::memory_order_release);
}

void on_data(self_ptr self, const codec::packet& p) {
  auto& st = self->state;
  auto& ctx = *st.core->ctx;
  if (st.at != phase::working) {
    ctx.stats->protocol_errors.inc();
    close_session(self, "data before handshake ack");
    return;
  }
  codec::message msg;
  if (auto err = codec::decode_message(p.body, &ctx.options.dictionary, msg);
      err != codec::error::none) {
    ctx.stats->protocol_errors.inc();
    close_session(self, std::string{"bad message: "} + codec::to_string(err));
    return;
  }
  if (msg.type != codec::message_type::request && msg.type != codec::message_type::notify) {
    log::debug("session ", st.core->id, ": dropped a ", codec::to_string(msg.type),
               " sent by the client");
    return;
  }
  dispatch(st.core, std::move(msg));
}

void on_packet(self_ptr self, const codec::packet& p) {
  auto& st = self->state;
  switch (p.type) {
    case codec::packet_type::handshake:
      on_handshake(self, p);
      break;
    case codec::packet_type::handshake_ack:
      if (st.at == phase::start) {
        st.core->ctx->stats->protocol_errors.inc();
        close_session(self, "handshake ack before handshake");
      }
      else if (st.at == phase::handshake) {
        st.at = phase::working;
        st.core->working.store(true, std::memory_order_release);
      }
      break;
    case codec::packet_type::data:
      on_data(self, p);
      break;
    case codec::packet_type::heartbeat:
    case codec::packet_type::kick:
      break; // activity only
  }
}

// The connection is gone: run the on-closed callbacks, tell the cluster, leave the registry.
void finish(self_ptr self, const std::string& reason) {
  auto& core = self->state.core;
  // A connection-level failure gets one line with who it was; ordinary ends stay quiet.
  bool failure = reason.rfind("write queue", 0) == 0 || reason.rfind("read failed", 0) == 0
                 || reason.rfind("write failed", 0) == 0;
  if (failure)
    log::info("session ", core->id, " (", core->out->remote_address(), "): closed: ", reason);
  else
    log::debug("session ", core->id, " closed: ", reason);
  fire_closed(core);
  if (auto& router = core->ctx->router)
    router->session_closed(session{core});
  {
    std::lock_guard<std::mutex> guard{core->ctx->sessions_mu};
    if (core->ctx->sessions.erase(core->id) != 0) // also ends its clock entry
      core->ctx->stats->sessions.sub();
  }
  self->quit();
}

void on_heartbeat_tick(self_ptr self) {
  auto& st = self->state;
  if (st.at == phase::closing)
    return;
  auto h = st.core->ctx->options.heartbeat;
  if (now_ms() - st.core->last_activity_ms.load(std::memory_order_relaxed) > 2 * h.count()) {
    st.core->ctx->stats->heartbeat_timeouts.inc();
    close_session(self, "heartbeat timeout");
    return;
  }
  st.core->out->send(st.core->ctx->heartbeat_packet);
}

void on_event(self_ptr self, caf::atom_value what, const std::string& why) {
  auto& st = self->state;
  switch (what) {
    case heartbeat_atom::value:
      on_heartbeat_tick(self);
      break;
    case hs_timeout_atom::value:
      if (st.at == phase::start) {
        st.core->ctx->stats->handshake_timeouts.inc();
        close_session(self, "no handshake within the handshake timeout");
      }
      break;
    case conn_failed_atom::value:
      st.core->ctx->stats->protocol_errors.inc(); // the gateway could not decode
      close_session(self, why);
      break;
    case conn_closed_atom::value:
      finish(self, why);
      break;
    default:
      log::error("session ", st.core->id, ": unknown event ", caf::to_string(what));
  }
}

} // namespace

caf::behavior session_actor(caf::stateful_actor<session_state>* self,
                            std::shared_ptr<session_core> core) {
  auto& st = self->state;
  st.core = std::move(core);
  st.core->last_activity_ms.store(now_ms(), std::memory_order_relaxed);
  // Heartbeats and the handshake timeout come from the runtime's session clock.
  return {
    [=](packet_batch& packets) {
      auto& st = self->state;
      for (auto& p : packets) {
        if (st.at == phase::closing)
          break;
        // An exception would end this actor and strand its connection: close it instead.
        try {
          on_packet(self, p);
        } catch (const std::exception& e) {
          close_session(self, std::string{"error while handling a packet: "} + e.what());
        }
      }
      // Everything this batch held is now queued behind it: the fast path may resume.
      st.core->batches_at_actor.fetch_sub(1, std::memory_order_acq_rel);
    },
    [=](session_task_msg& t) {
      // Work for this session from elsewhere (the cluster relaying a push or a response):
      // run here, so that it is ordered with everything else the session does.
      try {
        t.fn(session{self->state.core});
      } catch (const std::exception& e) {
        log::error("session ", self->state.core->id, ": task threw: ", e.what());
      }
    },
    // Everything the session clock and the gateway tell a session, in one case: each case of a
    // behaviour costs every session's actor about 50 bytes while it is idle.
    [=](caf::atom_value what, const std::string& why) { on_event(self, what, why); },
  };
}

} // namespace nanocaf::detail
