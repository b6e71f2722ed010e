// The session clock: one actor per runtime that, on a periodic tick, tells each session when
// its heartbeat is due (every H from accept, spec 1.8) and when its handshake is overdue. Two
// timers per session would cost memory per idle client and, in CAF 0.17, keep a closed
// session's actor alive until they fire.
#include <algorithm>
#include <vector>

#include <caf/send.hpp>

#include "detail/actors.hpp"
#include "detail/messages.hpp"
#include "detail/node_context.hpp"
#include "detail/session_core.hpp"

namespace nanocaf::detail {

namespace {

using clock_tick_atom = caf::atom_constant<caf::atom("clocktick")>;

// How long past 2H a client may stay silent. nano's own browser client (starx) answers a
// server heartbeat one interval after it arrives and ignores those that come while its answer
// is pending, so its heartbeats can be 2H apart plus timer, network and our own tick delays;
// nano tolerates that by checking in whole seconds once per H. Half an interval keeps such a
// client (under load too) while a silent one still goes between 2H and 3H, as in nano.
std::int64_t idle_grace_ms(const runtime_options& o) { return o.heartbeat.count() / 2; }

// Fine enough that a beat is at most 1/8 of a period late, coarse enough to stay cheap.
std::chrono::milliseconds tick_period(const runtime_options& o) {
  auto shortest = std::min(o.heartbeat, o.handshake_timeout);
  return std::clamp(shortest / 8, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
}

} // namespace

caf::behavior session_clock(caf::event_based_actor* self, std::shared_ptr<node_context> ctx) {
  auto period = tick_period(ctx->options);
  self->delayed_send(self, period, clock_tick_atom::value);
  return {
    [=](clock_tick_atom) {
      auto now = now_ms();
      auto beat = ctx->options.heartbeat.count();
      auto handshake_limit = ctx->options.handshake_timeout.count();
      auto idle_limit = 2 * beat + idle_grace_ms(ctx->options);
      // Who to tell, collected under the lock and told after it.
      std::vector<std::pair<caf::actor, caf::atom_value>> due;
      {
        std::lock_guard<std::mutex> guard{ctx->sessions_mu};
        for (auto& [id, live] : ctx->sessions) {
          auto& core = *live.core;
          if (!core.timeout_sent && now - core.opened_ms > handshake_limit
              && !core.acked.load(std::memory_order_relaxed)) {
            core.timeout_sent = true;
            due.emplace_back(live.actor, hs_timeout_atom::value);
          }
          // Checked every tick (an eighth of H), not once per H: the window stays 2.5H-2.6H.
          if (beat > 0 && !core.idle_sent
              && now - core.last_activity_ms.load(std::memory_order_relaxed) > idle_limit) {
            core.idle_sent = true;
            due.emplace_back(live.actor, idle_atom::value);
          }
          if (now >= core.next_beat_ms) {
            // Skip beats missed while the machine was stalled rather than send a burst.
            core.next_beat_ms = std::max(core.next_beat_ms + beat, now + beat / 2);
            due.emplace_back(live.actor, heartbeat_atom::value);
          }
        }
      }
      for (auto& [actor, what] : due)
        caf::anon_send(actor, what, std::string{}); // the session's event case: (what, why)
      self->delayed_send(self, period, clock_tick_atom::value);
    },
  };
}

} // namespace nanocaf::detail
