// Binds a component to the actor it runs on: its timers, and the handle used by invoke().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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
  void cancel_timer(timer_id id);
  /// The wake-up armed for `armed_for` (a steady_clock count) came: runs the timers that are
  /// due, re-arms or retires each, and arms the wake-up for the next deadline.
  void timers_due(std::int64_t armed_for);
  std::size_t active_timers() const noexcept { return timers_.size(); }

  const caf::actor& handle() const noexcept { return handle_; }
  caf::event_based_actor* self() const noexcept { return self_; }

private:
  // The timers wait here, not in CAF's clock: a game re-arms a turn timer on every move, and
  // one delayed message each would wake the clock thread every time and keep every cancelled
  // timer's message until its deadline (30 s of moves). The actor holds one delayed message,
  // for the earliest deadline, and sends another only when a new timer comes before it.
  using clock = std::chrono::steady_clock;
  using queue = std::multimap<clock::time_point, timer_id>; // equal deadlines keep their order
  struct timer {
    duration interval;
    std::size_t remaining; // 0: until cancelled
    std::function<bool()> done;
    std::function<void()> fn;
    queue::iterator slot; // in due_; due_.end() while it runs
  };

  void schedule(timer_id id, timer& t, clock::time_point at);
  void arm(clock::time_point at);
  void fire(timer_id id);

  caf::event_based_actor* self_;
  caf::actor handle_;
  timer_id next_id_ = 1;
  std::unordered_map<timer_id, timer> timers_;
  queue due_;
  std::optional<clock::time_point> armed_; // the earliest wake-up on its way
  bool running_due_ = false;                // timers_due is running callbacks
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
