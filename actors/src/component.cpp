#include "nanocaf/component.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>

#include <caf/send.hpp>

#include "detail/messages.hpp"
#include "detail/service_host.hpp"
#include "detail/session_core.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/runtime.hpp"

namespace nanocaf {

namespace detail {

void service_host::attach(component& c, const std::shared_ptr<service_host>& host) {
  c.host_ = host;
  c.self_ = host->self();
}

void service_host::detach(component& c) {
  c.host_.reset();
  c.self_ = nullptr;
}

timer_id service_host::start_timer(duration interval, std::size_t times,
                                   std::function<bool()> done, std::function<void()> fn) {
  if (interval.count() <= 0)
    interval = duration{1};
  auto id = next_id_++;
  auto& t = timers_.emplace(id, timer{interval, times, std::move(done), std::move(fn), due_.end()})
              .first->second;
  schedule(id, t, clock::now() + interval);
  return id;
}

void service_host::cancel_timer(timer_id id) {
  auto i = timers_.find(id);
  if (i == timers_.end())
    return;
  if (i->second.slot != due_.end())
    due_.erase(i->second.slot);
  timers_.erase(i); // a wake-up armed for it comes, finds nothing due, and arms the next
}

void service_host::schedule(timer_id id, timer& t, clock::time_point at) {
  t.slot = due_.emplace(at, id);
  // While due timers run, timers_due arms once at the end, for whatever is then earliest.
  if (!running_due_ && (!armed_ || at < *armed_))
    arm(at);
}

void service_host::arm(clock::time_point at) {
  armed_ = at;
  auto delay = std::max(at - clock::now(), clock::duration::zero());
  self_->delayed_send(self_, delay, timer_atom::value,
                      static_cast<std::int64_t>(at.time_since_epoch().count()));
}

void service_host::timers_due(std::int64_t armed_for) {
  if (armed_ && armed_->time_since_epoch().count() == armed_for)
    armed_.reset(); // else a later wake-up that an earlier one overtook: armed_ stays
  auto now = clock::now();
  running_due_ = true;
  while (!due_.empty() && due_.begin()->first <= now) {
    auto id = due_.begin()->second;
    timers_.at(id).slot = due_.end();
    due_.erase(due_.begin());
    fire(id);
  }
  running_due_ = false;
  if (!due_.empty() && (!armed_ || due_.begin()->first < *armed_))
    arm(due_.begin()->first);
}

void service_host::fire(timer_id id) {
  auto i = timers_.find(id);
  auto& t = i->second;
  if (t.done && t.done()) {
    timers_.erase(i);
    return;
  }
  // Called from a local: the callback may cancel its own timer, which erases the entry.
  auto fn = std::move(t.fn);
  try {
    fn();
  } catch (const std::exception& e) {
    log::error("timer ", id, " threw: ", e.what());
  } catch (...) {
    log::error("timer ", id, " threw something that is not a std::exception");
  }
  // The callback may have cancelled this or other timers: look it up again.
  i = timers_.find(id);
  if (i == timers_.end())
    return;
  if (i->second.remaining != 0 && --i->second.remaining == 0) {
    timers_.erase(i);
    return;
  }
  i->second.fn = std::move(fn);
  schedule(id, i->second, clock::now() + i->second.interval);
}

current_actor_scope::current_actor_scope(caf::actor* a) noexcept
  : previous_(current_component_actor()) {
  set_current_component_actor(a);
}

current_actor_scope::~current_actor_scope() { set_current_component_actor(previous_); }

} // namespace detail

component::~component() = default;

namespace {
detail::service_host& host_or_throw(const std::shared_ptr<detail::service_host>& h,
                                    const std::string& name) {
  if (!h)
    throw std::logic_error("component '" + name + "' is not running yet (use timers from init on)");
  return *h;
}
} // namespace

timer_id component::every(duration interval, std::function<void()> fn) {
  return host_or_throw(host_, name_).start_timer(interval, 0, nullptr, std::move(fn));
}

timer_id component::after(duration delay, std::function<void()> fn) {
  return host_or_throw(host_, name_).start_timer(delay, 1, nullptr, std::move(fn));
}

timer_id component::count(duration interval, std::size_t times, std::function<void()> fn) {
  if (times == 0)
    return 0;
  return host_or_throw(host_, name_).start_timer(interval, times, nullptr, std::move(fn));
}

timer_id component::until(duration interval, std::function<bool()> done,
                          std::function<void()> fn) {
  return host_or_throw(host_, name_).start_timer(interval, 0, std::move(done), std::move(fn));
}

void component::cancel(timer_id id) {
  if (host_)
    host_->cancel_timer(id);
}

std::size_t component::active_timers() const noexcept {
  return host_ ? host_->active_timers() : 0;
}

void component::invoke(std::function<void()> fn) const {
  auto& h = host_or_throw(host_, name_);
  caf::anon_send(h.handle(), detail::task_msg{std::move(fn)});
}

serializer_kind component::call_format() const noexcept {
  return runtime_ ? runtime_->options().serializer : serializer_kind::json;
}

void component::call_payload(std::optional<session> client, const std::string& route,
                             std::string payload, duration timeout,
                             std::function<void(const call_reply&)> done) {
  auto& host = host_or_throw(host_, name_);
  if (!runtime_)
    throw std::logic_error("component '" + name_ + "' is not part of a runtime");
  // The reply, the error or the deadline, whichever comes first, runs `done` on this actor,
  // and the deadline's timer goes with the reply (it is read there: both run on this actor).
  auto finished = std::make_shared<std::atomic<bool>>(false);
  auto deadline = std::make_shared<timer_id>(0);
  auto owner = host.handle();
  auto finish = [this, finished, deadline, owner, done = std::move(done)](call_reply reply) {
    if (finished->exchange(true))
      return;
    caf::anon_send(owner, detail::task_msg{[this, deadline, done, reply = std::move(reply)] {
                     cancel(*deadline);
                     done(reply);
                   }});
  };
  *deadline = after(timeout, [finish, route] {
    auto id = new_error_id();
    log::info("error ", id, " (504): call of ", route, ": no reply within the deadline");
    finish({reply_code::timeout, generic_error_text(reply_code::timeout), {}, id});
  });
  runtime_->call_from_anywhere(std::move(client), route, std::move(payload), timeout, finish);
}

void component::on_session_closed(std::function<void(const session&)> fn) {
  // Before start (setup) the runtime collects them; once it runs, they are added at once.
  if (runtime_ && runtime_->started() && host_)
    runtime_->add_session_closed_hook(host_->handle(), std::move(fn));
  else
    closed_hooks_.push_back(std::move(fn));
}

std::string detail::log_call_decode_failure(const std::string& route, const char* what) {
  auto id = new_error_id();
  log::warn("error ", id, " (500): the reply of ", route, " does not decode: ", what);
  return id;
}

std::string to_lower(const std::string& s) {
  std::string out = s;
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

metrics::registry& component::metrics() const {
  if (!runtime_)
    throw std::logic_error("component::metrics() before the component is added to a runtime");
  return runtime_->metrics();
}

} // namespace nanocaf
