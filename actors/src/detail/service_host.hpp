// Binds a component to the actor it runs on: its timers, and the handle used by invoke().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "nanocaf/component.hpp"

namespace nanocaf::detail {

class service_host {
public:
  service_host(caf::event_based_actor* self, caf::actor handle)
    : self_(self), handle_(std::move(handle)) {}

  /// Makes `c` run on this host's actor.
  static void attach(component& c, const std::shared_ptr<service_host>& host);
  static void detach(component& c);
  static service_host* of(const component& c) noexcept { return c.host_.get(); }
  static const auto& handlers_of(const component& c) noexcept { return c.handlers_; }

  timer_id start_timer(duration interval, std::size_t times, std::function<bool()> done,
                       std::function<void()> fn);
  void cancel_timer(timer_id id) { timers_.erase(id); }
  /// Runs timer `id` if it is still active, and re-arms or retires it.
  void fire_timer(timer_id id);
  std::size_t active_timers() const noexcept { return timers_.size(); }

  const caf::actor& handle() const noexcept { return handle_; }
  caf::event_based_actor* self() const noexcept { return self_; }

private:
  struct timer {
    duration interval;
    std::size_t remaining; // 0: until cancelled
    std::function<bool()> done;
    std::function<void()> fn;
  };

  caf::event_based_actor* self_;
  caf::actor handle_;
  timer_id next_id_ = 1;
  std::unordered_map<timer_id, timer> timers_;
};

/// Marks the component actor as "current" on this thread while user code runs, so that
/// session::on_closed knows where to run its callback.
class current_actor_scope {
public:
  explicit current_actor_scope(caf::actor* a) noexcept;
  ~current_actor_scope();
  current_actor_scope(const current_actor_scope&) = delete;
  current_actor_scope& operator=(const current_actor_scope&) = delete;

private:
  caf::actor* previous_;
};

} // namespace nanocaf::detail
