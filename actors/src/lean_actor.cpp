#include "detail/lean_actor.hpp"

#include <cassert>
#include <exception>

#include <caf/actor_system.hpp>
#include <caf/detail/sync_request_bouncer.hpp>
#include <caf/execution_unit.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/sec.hpp>

#include "nanocaf/log.hpp"

namespace nanocaf::detail {

lean_actor::lean_actor(caf::actor_config& cfg) : caf::monitorable_actor(cfg) {
  // Asleep until the first message: the enqueue that finds it asleep schedules it.
  inbox_.try_block();
  register_at_system();
}

lean_actor::~lean_actor() {
  // CAF calls on_destroy() first, whose cleanup() emptied the cache and closed the inbox.
  assert(cache_ == nullptr);
}

void lean_actor::enqueue(caf::mailbox_element_ptr what, caf::execution_unit* host) {
  auto mid = what->mid;
  // Kept only for a request, which needs an answer if the actor has ended.
  auto sender = mid.is_request() ? what->sender : nullptr;
  switch (inbox_.push_front(std::move(what))) {
    case caf::intrusive::inbox_result::unblocked_reader:
      // It was asleep: schedule it; the scheduler holds a reference until resume() returns.
      intrusive_ptr_add_ref(ctrl());
      if (host != nullptr)
        host->exec_later(this);
      else
        home_system().scheduler().enqueue(this);
      break;
    case caf::intrusive::inbox_result::queue_closed:
      if (mid.is_request())
        caf::detail::sync_request_bouncer{fail_state()}(sender, mid);
      break;
    case caf::intrusive::inbox_result::success:
      break; // it is awake or scheduled and will see the message
  }
}

bool lean_actor::refill_cache() {
  auto* x = inbox_.take_head(); // newest first
  if (x == nullptr)
    return false;
  caf::mailbox_element* oldest_first = nullptr;
  while (x != nullptr) {
    auto* next = static_cast<caf::mailbox_element*>(x->next);
    x->next = oldest_first;
    oldest_first = x;
    x = next;
  }
  cache_ = oldest_first;
  return true;
}

auto lean_actor::resume(caf::execution_unit* host, std::size_t max_throughput) -> resume_result {
  std::size_t handled = 0;
  while (handled < max_throughput) {
    if (cache_ == nullptr && !refill_cache()) {
      if (inbox_.try_block())
        return resumable::awaiting_message;
      continue; // a message came in between: take it
    }
    caf::mailbox_element_ptr x{cache_};
    cache_ = static_cast<caf::mailbox_element*>(x->next);
    x->next = nullptr;
    ++handled;
    // An exception must not reach the scheduler's thread: it ends this actor only.
    try {
      if (!handle_system_message(*x, host, false))
        handle(*x, host);
    } catch (const std::exception& e) {
      log::error(name(), " ", id(), ": ", e.what(), "; the actor ends");
      cleanup(caf::make_error(caf::exit_reason::unhandled_exception), host);
    } catch (...) {
      log::error(name(), " ", id(), ": an unknown exception; the actor ends");
      cleanup(caf::make_error(caf::exit_reason::unhandled_exception), host);
    }
    if (getf(is_terminated_flag))
      return resumable::done;
  }
  return resumable::resume_later; // its share is used up: behind the others
}

auto lean_actor::subtype() const -> subtype_t {
  // Not scheduled_actor: CAF would cast it to one when it drops jobs at shutdown.
  return resumable::unspecified;
}

void lean_actor::intrusive_ptr_add_ref_impl() { intrusive_ptr_add_ref(ctrl()); }

void lean_actor::intrusive_ptr_release_impl() { intrusive_ptr_release(ctrl()); }

void lean_actor::drop_queued(const caf::error& reason) {
  caf::detail::sync_request_bouncer bounce{reason};
  auto drop = [&](caf::mailbox_element* ptr) {
    caf::mailbox_element_ptr x{ptr};
    bounce(*x);
  };
  if (!inbox_.closed())
    inbox_.close(drop); // from now on enqueue answers requests itself
  while (cache_ != nullptr) {
    auto* next = static_cast<caf::mailbox_element*>(cache_->next);
    drop(cache_);
    cache_ = next;
  }
}

bool lean_actor::cleanup(caf::error&& reason, caf::execution_unit* host) {
  unregister_from_system();
  drop_queued(reason);
  return caf::monitorable_actor::cleanup(std::move(reason), host);
}

void lean_actor::on_destroy() {
  if (!getf(is_cleaned_up_flag)) {
    cleanup(caf::make_error(caf::exit_reason::unreachable), nullptr);
    caf::monitorable_actor::on_destroy();
  }
}

void lean_actor::quit(caf::execution_unit* host) {
  cleanup(caf::make_error(caf::exit_reason::normal), host);
}

void lean_actor::unexpected(caf::mailbox_element& x) {
  log::warn(name(), " ", id(), ": dropped an unexpected message: ", x.content().stringify());
  if (x.mid.is_request() && x.sender != nullptr)
    x.sender->enqueue(ctrl(), x.mid.response_id(),
                      caf::make_message(caf::make_error(caf::sec::unexpected_message)), nullptr);
}

} // namespace nanocaf::detail
