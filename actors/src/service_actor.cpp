#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>

#include "detail/actors.hpp"
#include "detail/messages.hpp"
#include "detail/node_metrics.hpp"
#include "detail/service_host.hpp"
#include "detail/session_core.hpp"
#include "detail/deferred_writes.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::detail {

namespace {

void run_handler(component& comp, dispatch_msg& d) {
  auto core = d.session; // keep one reference for error replies after the move below
  core->inflight_bytes.fetch_sub(d.cost, std::memory_order_relaxed);
  auto s = detail::make_session(std::move(d.session), d.mid);
  auto& entry = service_host::handlers_of(comp)[d.handler];
  // On CAF's own schedulers this is the only deferral: a handler's packets to one client
  // still go out in one write.
  write_deferral deferral;
  struct request_scope { // what the handler broadcasts is charged to its client
    explicit request_scope(session_core* s) noexcept { set_current_request_session(s); }
    ~request_scope() { set_current_request_session(nullptr); }
  } charged{core->fanout_payer ? core->fanout_payer.get() : core.get()};
  try {
    entry.call(s, std::move(d.payload));
  } catch (const payload_error& e) {
    // The route is the client's own; the decoder's message stays in the log.
    auto id = new_error_id();
    log::info("error ", id, " (400, session ", core->id, "): bad payload for ", comp.name(), ".",
              entry.name, ": ", e.what());
    send_error_reply(core, d.mid, reply_code::bad_request,
                     "bad payload for " + comp.name() + "." + entry.name, id);
  } catch (const handler_error& e) {
    send_error_reply(core, d.mid, e.code(), e.what()); // the author's words, for the client
  } catch (const std::exception& e) {
    send_failure_reply(core, d.mid, reply_code::handler_failed,
                       "handler " + comp.name() + "." + entry.name + " threw: " + e.what());
  } catch (...) {
    send_failure_reply(core, d.mid, reply_code::handler_failed,
                       "handler " + comp.name() + "." + entry.name + " threw a non-exception");
  }
  d.stats->seconds.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - d.dispatched).count());
  write_deferral::handler_done();
}

// Empty when the stage ran; otherwise why it failed (runtime::start reports it).
std::string run_lifecycle(component& comp, lifecycle_stage stage) {
  try {
    switch (stage) {
      case lifecycle_stage::init: comp.init(); break;
      case lifecycle_stage::after_init: comp.after_init(); break;
      case lifecycle_stage::before_shutdown: comp.before_shutdown(); break;
      case lifecycle_stage::shutdown: comp.shutdown(); break;
    }
    return {};
  } catch (const std::exception& e) {
    return e.what()[0] != '\0' ? std::string{e.what()} : std::string{"an exception"};
  } catch (...) {
    return "a non-exception";
  }
}

} // namespace

service_state::~service_state() {
  // CAF destroys the state when the actor exits: break the component -> host -> actor cycle
  // here (an attached functor would run after the state is gone).
  if (comp)
    service_host::detach(*comp);
}

caf::behavior service_actor(caf::stateful_actor<service_state>* self,
                            std::shared_ptr<component> comp) {
  auto& st = self->state;
  st.comp = std::move(comp);
  st.handle = caf::actor_cast<caf::actor>(self);
  st.host = std::make_shared<service_host>(self, st.handle);
  service_host::attach(*st.comp, st.host);
  return {
    [=](dispatch_msg& d) {
      current_actor_scope scope{&self->state.handle};
      run_handler(*self->state.comp, d);
    },
    [=](task_msg& t) {
      current_actor_scope scope{&self->state.handle};
      try {
        t.fn();
      } catch (const std::exception& e) {
        log::error("component ", self->state.comp->name(), ": task threw: ", e.what());
      }
    },
    [=](timer_atom, std::int64_t armed_for) {
      current_actor_scope scope{&self->state.handle};
      self->state.host->timers_due(armed_for);
    },
    [=](lifecycle_atom, lifecycle_stage stage) {
      current_actor_scope scope{&self->state.handle};
      return run_lifecycle(*self->state.comp, stage);
    },
  };
}

} // namespace nanocaf::detail
