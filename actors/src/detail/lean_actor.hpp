// A CAF actor with a mailbox and nothing else, for actors that exist by the thousand and take a
// handful of message types: one per client session.
#pragma once

#include <cstddef>

#include <caf/detail/disposer.hpp>
#include <caf/intrusive/lifo_inbox.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/monitorable_actor.hpp>
#include <caf/resumable.hpp>

namespace nanocaf::detail {

/// A session on CAF's stateful event_based_actor took 1,112 bytes with CAF's control block (400
/// of them a mailbox of four queues; then the behaviour stack, tables for responses and streams,
/// five default handlers), and its behaviour about 50 bytes more per case. An idle session
/// needs none of that. A lean_actor is built the way CAF builds its own light actors
/// (actor_pool, the forwarding proxies): a monitorable_actor (an address, links, monitors, exit
/// messages) with its own enqueue; here with a lock-free inbox and a resume(), so that it runs on
/// CAF's scheduler one message at a time like any other actor. It is 144 bytes, plus the 64 of
/// the control block.
///
/// What it does like a scheduled actor: it counts in the actor system's running actors until it
/// ends (so the system's shutdown waits for it); an exit message with a reason ends it; a
/// message sent after the end, or one that no case takes, gets an error reply if it was a
/// request. What it leaves out: behaviours, request/then, timeouts, streams, detached threads.
class lean_actor : public caf::monitorable_actor, public caf::resumable {
public:
  ~lean_actor() override;

  // From any thread.
  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit* host) override;

  // From the scheduler.
  resume_result resume(caf::execution_unit* host, std::size_t max_throughput) override;
  subtype_t subtype() const override;
  void intrusive_ptr_add_ref_impl() override;
  void intrusive_ptr_release_impl() override;

  bool cleanup(caf::error&& reason, caf::execution_unit* host) override;
  void on_destroy() override;

protected:
  explicit lean_actor(caf::actor_config& cfg);

  /// One message, on the scheduler, one at a time. Exit and system messages are taken before
  /// it sees them. An exception that escapes ends the actor (it is logged).
  virtual void handle(caf::mailbox_element& x, caf::execution_unit* host) = 0;

  /// Ends the actor once the current message is handled; what is still queued is dropped.
  void quit(caf::execution_unit* host);

  /// For a message that no case takes: logs it; a request gets sec::unexpected_message.
  void unexpected(caf::mailbox_element& x);

private:
  struct inbox_policy {
    using mapped_type = caf::mailbox_element;
    using unique_pointer = caf::mailbox_element_ptr;
  };

  // Moves what the inbox holds into cache_, oldest first; false when the inbox was empty.
  bool refill_cache();
  // Drops whatever is queued, answering requests with the actor's exit reason.
  void drop_queued(const caf::error& reason);

  caf::intrusive::lifo_inbox<inbox_policy> inbox_;
  caf::mailbox_element* cache_ = nullptr; // taken from the inbox, not handled yet, oldest first
};

} // namespace nanocaf::detail
