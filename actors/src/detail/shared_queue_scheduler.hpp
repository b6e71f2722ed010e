// The CAF scheduler nanocaf runs on machines with few cores: one job queue shared by all
// worker threads, as CAF's "sharing" policy, without that policy's per-job costs.
#pragma once

#include <caf/actor_system.hpp>

namespace nanocaf::detail {

/// A scheduler module for caf::actor_system_config::module_factories. Idle workers sleep on a
/// condition variable (no polling); every job goes through the one queue, in order.
///
/// Why not CAF's own sharing policy: its worker loop (caf/scheduler/worker.hpp) casts every
/// job from resumable* to abstract_actor* for a log context that Debian's build never logs,
/// a dynamic cross-cast that costs about 1,400 instructions for our actor types, and its queue
/// allocates a list node for every job. Both are per actor activation, so per request.
caf::actor_system::module* make_shared_queue_scheduler(caf::actor_system& sys);

} // namespace nanocaf::detail
