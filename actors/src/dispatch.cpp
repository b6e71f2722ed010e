// What happens to a decoded Request or Notify on the node that handles it, whether it came
// from a local client (session actor) or from another node (a remote session).
#include <caf/send.hpp>

#include "detail/messages.hpp"
#include "detail/node_metrics.hpp"
#include "detail/session_core.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::detail {

void dispatch(const std::shared_ptr<session_core>& core, codec::message msg) {
  auto& ctx = *core->ctx;
  std::uint64_t mid = msg.type == codec::message_type::request ? msg.id : 0;
  if (auto* hooks = ctx.hooks(); hooks && !hooks->inbound.empty()) {
    if (!hooks->inbound.process(detail::make_session(core, mid), msg))
      return;
  }
  auto target = ctx.routes.find(msg.route);
  // A server-only handler is not there for clients: the same 404 as for no handler at all.
  bool hidden = target != ctx.routes.end() && target->second.internal && !core->internal_caller;
  if (target != ctx.routes.end() && !hidden) {
    // Admission control: what a session has queued for its handlers is bounded.
    std::size_t cost = msg.payload.size() + sizeof(dispatch_msg);
    auto queued = core->inflight_bytes.fetch_add(cost, std::memory_order_relaxed) + cost;
    if (queued > ctx.options.max_inflight_bytes) {
      core->inflight_bytes.fetch_sub(cost, std::memory_order_relaxed);
      if (!core->over_bound.exchange(true, std::memory_order_acq_rel)) { // one log line
        ctx.stats->overloaded_closes.inc();
        log::warn("session ", core->id, " (", core->out->remote_address(),
                  "): closing: more than ", ctx.options.max_inflight_bytes,
                  " bytes queued for its handlers");
        core->out->close();
      }
      return;
    }
    auto* stats = target->second.stats;
    (mid != 0 ? stats->requests : stats->notifies).inc();
    caf::anon_send(target->second.service,
                   dispatch_msg{core, target->second.handler, mid, std::move(msg.payload), cost,
                                stats, std::chrono::steady_clock::now()});
    return;
  }
  if (ctx.router && !hidden) {
    ctx.router->forward(detail::make_session(core, mid), std::move(msg));
    return;
  }
  ctx.stats->unknown_routes.inc();
  log::debug("session ", core->id, ": route not found: ", msg.route);
  send_error_reply(core, mid, reply_code::route_not_found, "route not found: " + msg.route);
}

bool fire_closed(const std::shared_ptr<session_core>& core) {
  if (core->closed.exchange(true, std::memory_order_acq_rel))
    return false;
  std::vector<closed_callback> callbacks;
  {
    std::lock_guard<std::mutex> guard{core->mu};
    core->callbacks_fired = true;
    callbacks.swap(core->callbacks);
  }
  auto s = detail::make_session(core);
  auto hooks = core->ctx->closed_hooks();
  for (auto& hook : *hooks)
    run_closed_callback({hook.owner, hook.fn}, s);
  for (auto& cb : callbacks)
    run_closed_callback(std::move(cb), s);
  return true;
}

} // namespace nanocaf::detail
