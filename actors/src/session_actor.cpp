// The session actor: the connection state machine of spec 1.7 and 1.8, and the dispatch of
// decoded requests and notifies to the service actors (spec 2.5).
#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>

#include <caf/actor_system.hpp>
#include <caf/make_actor.hpp>

#include "detail/actors.hpp"
#include "detail/lean_actor.hpp"
#include "detail/messages.hpp"
#include "detail/node_metrics.hpp"
#include "detail/session_core.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/serialize.hpp"

namespace nanocaf::detail {

using clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch())
    .count();
}

namespace {

enum class phase : std::uint8_t { start, handshake, working, closing };

// One per client connection. A lean_actor, not an event_based_actor: thousands sit idle, and
// this saves each about 1.1 KB (see lean_actor.hpp).
class session_actor final : public lean_actor {
public:
  session_actor(caf::actor_config& cfg, std::shared_ptr<session_core> core)
    : lean_actor(cfg), core_(std::move(core)) {
    core_->last_activity_ms.store(now_ms(), std::memory_order_relaxed);
  }

  const char* name() const override { return "nanocaf.session"; }

private:
  void handle(caf::mailbox_element& x, caf::execution_unit* host) override;

  void on_batch(const packet_batch& packets);
  void on_packet(const codec::packet& p);
  void on_handshake(const codec::packet& p);
  void on_data(const codec::packet& p);
  void on_event(caf::atom_value what, const std::string& why, caf::execution_unit* host);
  void on_heartbeat_tick();
  void run_task(const session_task_msg& t);
  void close_session(const std::string& why);
  void finish(const std::string& reason, caf::execution_unit* host);

  std::shared_ptr<session_core> core_;
  phase at_ = phase::start;
};

// Heartbeats and the handshake timeout come from the runtime's session clock (one event case
// for it and the gateway); packets from the gateway; tasks from the cluster.
void session_actor::handle(caf::mailbox_element& x, caf::execution_unit* host) {
  auto& msg = x.content();
  if (msg.match_elements<packet_batch>())
    on_batch(msg.get_as<packet_batch>(0));
  else if (msg.match_elements<caf::atom_value, std::string>())
    on_event(msg.get_as<caf::atom_value>(0), msg.get_as<std::string>(1), host);
  else if (msg.match_elements<session_task_msg>())
    run_task(msg.get_as<session_task_msg>(0));
  else
    unexpected(x);
}

void session_actor::on_batch(const packet_batch& packets) {
  for (auto& p : packets) {
    if (at_ == phase::closing)
      break;
    // An exception would end this actor and strand its connection: close it instead.
    try {
      on_packet(p);
    } catch (const std::exception& e) {
      close_session(std::string{"error while handling a packet: "} + e.what());
    }
  }
  // Everything this batch held is now queued behind it: the fast path may resume.
  core_->batches_at_actor.fetch_sub(1, std::memory_order_acq_rel);
}

// Work for this session from elsewhere (the cluster relaying a push or a response): run here,
// so that it is ordered with everything else the session does.
void session_actor::run_task(const session_task_msg& t) {
  try {
    t.fn(detail::make_session(core_));
  } catch (const std::exception& e) {
    log::error("session ", core_->id, ": task threw: ", e.what());
  }
}

// Closes the connection; the gateway then reports conn_closed, which ends the actor.
void session_actor::close_session(const std::string& why) {
  if (at_ == phase::closing)
    return;
  at_ = phase::closing;
  core_->working.store(false, std::memory_order_release);
  log::info("session ", core_->id, " (", core_->out->remote_address(), "): closing: ", why);
  core_->out->close();
}

// What is wrong with a handshake body, or nullopt: empty (nano's Go clients) or a JSON object
// within the depth limit. Parsed here so that no validator or log sees a body that could
// exhaust the stack when printed.
std::optional<std::string> handshake_body_problem(const std::string& body, std::size_t max_depth) {
  if (body.empty())
    return std::nullopt;
  if (json_nested_deeper_than(body, max_depth))
    return "handshake JSON nested deeper than " + std::to_string(max_depth) + " levels";
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::string{"handshake body is not a JSON object"};
  return std::nullopt;
}

void session_actor::on_handshake(const codec::packet& p) {
  auto& ctx = *core_->ctx;
  if (auto problem = handshake_body_problem(p.body, ctx.options.max_json_depth)) {
    // The client hears why (starx reports a code other than 200 as "handshake fail").
    ctx.stats->handshakes_refused.inc();
    ctx.stats->protocol_errors.inc();
    log::info("session ", core_->id, " (", core_->out->remote_address(),
              "): handshake refused: ", *problem);
    auto reply = std::make_shared<std::string>();
    codec::encode_packet(codec::packet_type::handshake,
                         nlohmann::json{{"code", reply_code::bad_request}, {"error", *problem}}
                           .dump(),
                         *reply);
    at_ = phase::closing;
    core_->working.store(false, std::memory_order_release);
    core_->out->kick(std::move(reply));
    return;
  }
  if (ctx.options.validator) {
    std::optional<std::string> refusal;
    try {
      refusal = ctx.options.validator(detail::make_session(core_), p.body);
    } catch (const std::exception& e) {
      refusal = std::string{"validator threw: "} + e.what();
    }
    if (refusal) {
      ctx.stats->handshakes_refused.inc();
      close_session("handshake refused: " + *refusal);
      return;
    }
  }
  ctx.stats->handshakes.inc();
  core_->out->send(ctx.handshake_response);
  at_ = phase::handshake; // a second handshake needs a new ack before Data, as the first
  core_->working.store(false, std::memory_order_release);
}

void session_actor::on_data(const codec::packet& p) {
  auto& ctx = *core_->ctx;
  if (at_ != phase::working) {
    ctx.stats->protocol_errors.inc();
    close_session("data before handshake ack");
    return;
  }
  codec::message msg;
  if (auto err = codec::decode_message(p.body, &ctx.options.dictionary, msg);
      err != codec::error::none) {
    ctx.stats->protocol_errors.inc();
    close_session(std::string{"bad message: "} + codec::to_string(err));
    return;
  }
  if (msg.type != codec::message_type::request && msg.type != codec::message_type::notify) {
    log::debug("session ", core_->id, ": dropped a ", codec::to_string(msg.type),
               " sent by the client");
    return;
  }
  dispatch(core_, std::move(msg));
}

void session_actor::on_packet(const codec::packet& p) {
  switch (p.type) {
    case codec::packet_type::handshake:
      on_handshake(p);
      break;
    case codec::packet_type::handshake_ack:
      if (at_ == phase::start) {
        core_->ctx->stats->protocol_errors.inc();
        close_session("handshake ack before handshake");
      }
      else if (at_ == phase::handshake) {
        core_->acked.store(true, std::memory_order_relaxed);
        at_ = phase::working;
        core_->working.store(true, std::memory_order_release);
      }
      break;
    case codec::packet_type::data:
      on_data(p);
      break;
    case codec::packet_type::heartbeat:
    case codec::packet_type::kick:
      break; // activity only
  }
}

// The connection is gone: run the on-closed callbacks, tell the cluster, leave the registry.
void session_actor::finish(const std::string& reason, caf::execution_unit* host) {
  // Connection failures are logged where they happen (the gateway knows what is a failure).
  log::debug("session ", core_->id, " closed: ", reason);
  fire_closed(core_);
  if (auto& router = core_->ctx->router)
    router->session_closed(detail::make_session(core_));
  {
    std::lock_guard<std::mutex> guard{core_->ctx->sessions_mu};
    if (core_->ctx->sessions.erase(core_->id) != 0) // also ends its clock entry
      core_->ctx->stats->sessions.sub();
  }
  quit(host);
}

void session_actor::on_heartbeat_tick() {
  if (at_ == phase::closing)
    return;
  core_->out->send(core_->ctx->heartbeat_packet);
}

void session_actor::on_event(caf::atom_value what, const std::string& why,
                             caf::execution_unit* host) {
  // An if chain: atoms are not enumerators of atom_value, so a switch over them warns.
  if (what == heartbeat_atom::value) {
    on_heartbeat_tick();
  } else if (what == idle_atom::value) {
    if (at_ != phase::closing) {
      core_->ctx->stats->heartbeat_timeouts.inc();
      close_session("heartbeat timeout");
    }
  } else if (what == hs_timeout_atom::value) {
    if (at_ == phase::start || at_ == phase::handshake) {
      core_->ctx->stats->handshake_timeouts.inc();
      close_session(at_ == phase::start ? "no handshake within the handshake timeout"
                                        : "no handshake ack within the handshake timeout");
    }
  } else if (what == conn_failed_atom::value) {
    core_->ctx->stats->protocol_errors.inc(); // the gateway could not decode
    close_session(why);
  } else if (what == conn_closed_atom::value) {
    finish(why, host);
  } else {
    log::error("session ", core_->id, ": unknown event ", caf::to_string(what));
  }
}

} // namespace

caf::actor spawn_session_actor(caf::actor_system& sys, std::shared_ptr<session_core> core) {
  caf::actor_config cfg;
  return caf::make_actor<session_actor, caf::actor>(sys.next_actor_id(), sys.node(), &sys, cfg,
                                                    std::move(core));
}

} // namespace nanocaf::detail
