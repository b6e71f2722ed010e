// The CAF scheduler nanocaf runs on machines with few cores: one job queue shared by all
// worker threads, as CAF's "sharing" policy, without that policy's per-job costs.
#pragma once

#include <functional>

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

/// The shared queue's jobs run by the thread of an event loop (the gateway's one Asio thread)
/// between its own handlers instead of by the worker threads: on one core this saves the
/// hand-off between two threads for every burst of requests (the futex, the context switch).
/// The jobs stay in the queue; the host only takes its turns at it.
class job_host_port {
public:
  /// From now on the workers leave the queue to the host. `wake` must only queue a call of
  /// run_hosted() on the host's thread (it is called on any thread, under the queue's lock)
  /// and stay callable until unhost() returns. False if a host is already attached.
  virtual bool host(std::function<void()> wake) = 0;
  /// On the host's thread, once per wake: runs the jobs that were waiting when it began (the
  /// ones they wake wait for the next call, so the loop's own handlers get their turn), and
  /// wakes the host again if any are left.
  virtual void run_hosted() = 0;
  /// The workers take the queue back (before the host's loop stops). Idempotent.
  virtual void unhost() = 0;

protected:
  ~job_host_port() = default;
};

/// The system's scheduler if it is ours, else null.
job_host_port* job_host_port_of(caf::actor_system& sys);

} // namespace nanocaf::detail
