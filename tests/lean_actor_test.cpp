// The lean actor under the session actor: one message at a time, in order per sender, from
// many threads, on both schedulers and with the shared queue's jobs hosted by an event loop;
// requests always answered; exit, quit and exceptions end it alone, and the actor system does
// not count it as running any more.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/all.hpp>
#include <caf/make_actor.hpp>

#include "detail/lean_actor.hpp"
#include "detail/shared_queue_scheduler.hpp"
#include "support/loop_host.hpp"
#include "support/wait_for.hpp"

using namespace std::chrono_literals;
using nanocaf::test::wait_for;

namespace {

using boom_atom = caf::atom_constant<caf::atom("boom")>;
using quit_atom = caf::atom_constant<caf::atom("quit")>;

constexpr int senders = 4;
constexpr int per_sender = 20000;

// What the test actor saw; written by the actor only, read once the test has waited for it.
// Shared with the actor: it may still be writing (the end of a handler) when a test, having
// seen what it waited for, returns.
struct record {
  std::array<int, senders> last{};
  std::atomic<int> handled{0};
  std::atomic<int> out_of_order{0};
  std::atomic<int> overlapping{0}; // two threads inside handle() at once
  std::atomic<bool> inside{false};
};

class test_actor final : public nanocaf::detail::lean_actor {
public:
  test_actor(caf::actor_config& cfg, std::shared_ptr<record> r)
    : lean_actor(cfg), r_(std::move(r)) {
    r_->last.fill(-1);
  }

  const char* name() const override { return "test.lean"; }

private:
  void handle(caf::mailbox_element& x, caf::execution_unit* host) override {
    if (r_->inside.exchange(true))
      ++r_->overlapping;
    auto& msg = x.content();
    if (msg.match_elements<int, int>()) {
      auto from = msg.get_as<int>(0);
      auto seq = msg.get_as<int>(1);
      if (seq != r_->last[from] + 1)
        ++r_->out_of_order;
      r_->last[from] = seq;
      ++r_->handled;
    } else if (msg.match_elements<boom_atom>()) {
      r_->inside = false;
      throw std::runtime_error("boom");
    } else if (msg.match_elements<quit_atom>()) {
      quit(host);
    } else {
      unexpected(x);
    }
    r_->inside = false;
  }

  std::shared_ptr<record> r_;
};

class LeanActor : public ::testing::TestWithParam<const char*> {
protected:
  LeanActor() : sys_(configure(cfg_, GetParam())) {
    if (std::string{GetParam()} == "hosted") {
      host_.emplace(sys_);
      host_->host();
    }
  }

  static caf::actor_system_config& configure(caf::actor_system_config& cfg,
                                             const std::string& policy) {
    cfg.set("scheduler.max-threads", 2);
    if (policy == "sharing" || policy == "hosted")
      cfg.module_factories.push_back(&nanocaf::detail::make_shared_queue_scheduler);
    return cfg;
  }

  caf::actor spawn(const std::shared_ptr<record>& r) {
    caf::actor_config cfg;
    return caf::make_actor<test_actor, caf::actor>(sys_.next_actor_id(), sys_.node(), &sys_,
                                                   cfg, r);
  }

  // The reason in the down message of `a`, which the test then makes end.
  template <class F>
  caf::error ended_by(const caf::actor& a, F make_it_end) {
    caf::scoped_actor self{sys_};
    self->monitor(a);
    make_it_end(self);
    caf::error reason = caf::make_error(caf::sec::runtime_error); // replaced by the down message
    bool down = false;
    self->receive([&](caf::down_msg& d) { reason = d.reason; down = true; },
                  caf::after(5s) >> [] {});
    EXPECT_TRUE(down) << "no down message within 5 s";
    return reason;
  }

  caf::actor_system_config cfg_; // before sys_, which is built from it
  caf::actor_system sys_;
  std::optional<nanocaf::test::loop_host> host_; // "hosted": the jobs run on its loop's thread
};

TEST_P(LeanActor, HandlesEveryMessageOneAtATimeInOrderPerSender) {
  auto r = std::make_shared<record>();
  auto a = spawn(r);
  std::vector<std::thread> threads;
  for (int from = 0; from < senders; ++from)
    threads.emplace_back([&, from] {
      for (int seq = 0; seq < per_sender; ++seq)
        caf::anon_send(a, from, seq);
    });
  for (auto& t : threads)
    t.join();
  ASSERT_TRUE(wait_for(r->handled, senders * per_sender)) << r->handled.load() << " handled";
  EXPECT_EQ(r->out_of_order.load(), 0);
  EXPECT_EQ(r->overlapping.load(), 0);
  for (int from = 0; from < senders; ++from)
    EXPECT_EQ(r->last[from], per_sender - 1);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_P(LeanActor, ARequestNoCaseTakesGetsAnError) {
  auto r = std::make_shared<record>();
  auto a = spawn(r);
  caf::scoped_actor self{sys_};
  caf::error got;
  self->request(a, 5s, std::string{"what is this"})
    .receive([](const std::string&) {}, [&](caf::error& e) { got = e; });
  EXPECT_EQ(got, caf::make_error(caf::sec::unexpected_message));
  // It is still alive and working.
  caf::anon_send(a, 0, 0);
  EXPECT_TRUE(wait_for(r->handled, 1));
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_P(LeanActor, QuitEndsItNormallyAndLaterRequestsAreAnswered) {
  auto r = std::make_shared<record>();
  auto a = spawn(r);
  auto running = sys_.registry().running();
  auto reason = ended_by(a, [&](caf::scoped_actor&) { caf::anon_send(a, quit_atom::value); });
  EXPECT_FALSE(reason) << caf::to_string(reason);
  EXPECT_EQ(sys_.registry().running(), running - 1);
  caf::scoped_actor self{sys_};
  caf::error got;
  self->request(a, 5s, 0, 0).receive([] {}, [&](caf::error& e) { got = e; });
  EXPECT_EQ(got, caf::make_error(caf::sec::request_receiver_down));
  EXPECT_EQ(r->handled.load(), 0);
}

TEST_P(LeanActor, AnExitMessageEndsItWithItsReason) {
  auto r = std::make_shared<record>();
  auto a = spawn(r);
  auto reason = ended_by(a, [&](caf::scoped_actor&) {
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  });
  EXPECT_EQ(reason, caf::make_error(caf::exit_reason::user_shutdown));
}

TEST_P(LeanActor, AnExceptionEndsThatActorOnly) {
  auto r1 = std::make_shared<record>();
  auto r2 = std::make_shared<record>();
  auto a1 = spawn(r1);
  auto a2 = spawn(r2);
  auto reason = ended_by(a1, [&](caf::scoped_actor&) { caf::anon_send(a1, boom_atom::value); });
  EXPECT_EQ(reason, caf::make_error(caf::exit_reason::unhandled_exception));
  caf::anon_send(a2, 1, 0);
  EXPECT_TRUE(wait_for(r2->handled, 1));
  caf::anon_send_exit(a2, caf::exit_reason::user_shutdown);
}

INSTANTIATE_TEST_SUITE_P(Schedulers, LeanActor, ::testing::Values("stealing", "sharing", "hosted"));

} // namespace
