// The "io" scheduler policy's mechanism: an event loop's thread runs the shared queue's jobs
// while it hosts them, the workers take them back when it stops, and no message is lost or
// reordered across the hand-overs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "detail/shared_queue_scheduler.hpp"
#include "support/loop_host.hpp"
#include "support/wait_for.hpp"

using namespace std::chrono_literals;
using nanocaf::test::wait_for;

namespace {

// What the counting actor saw: per message, the thread that handled it.
struct sightings {
  std::mutex mu;
  std::vector<std::thread::id> threads;
  std::vector<int> values;
  std::atomic<int> handled{0};
};

caf::behavior counting(caf::event_based_actor*, std::shared_ptr<sightings> s) {
  return {[s](int value) {
    {
      std::lock_guard<std::mutex> guard{s->mu};
      s->threads.push_back(std::this_thread::get_id());
      s->values.push_back(value);
    }
    ++s->handled;
  }};
}

class JobHost : public ::testing::Test {
protected:
  JobHost() : sys_(configure(cfg_)) {}

  static caf::actor_system_config& configure(caf::actor_system_config& cfg) {
    cfg.set("scheduler.max-threads", 1);
    cfg.module_factories.push_back(&nanocaf::detail::make_shared_queue_scheduler);
    return cfg;
  }

  // Threads (other than the host's) that handled messages first..last-1.
  std::size_t handled_off_host(sightings& s, std::size_t first, std::size_t last) {
    std::lock_guard<std::mutex> guard{s.mu};
    std::size_t n = 0;
    for (auto i = first; i < last; ++i)
      n += s.threads[i] != host_.thread_id() ? 1 : 0;
    return n;
  }

  caf::actor_system_config cfg_;
  caf::actor_system sys_;
  nanocaf::test::loop_host host_{sys_};
};

TEST_F(JobHost, TheHostRunsTheJobsThenTheWorkersTakeThemBack) {
  auto s = std::make_shared<sightings>();
  auto a = sys_.spawn(counting, s);
  ASSERT_TRUE(host_.host());
  EXPECT_FALSE(host_.host()) << "a second host is refused";
  for (int i = 0; i < 1000; ++i)
    caf::anon_send(a, i);
  ASSERT_TRUE(wait_for(s->handled, 1000));
  EXPECT_EQ(handled_off_host(*s, 0, 1000), 0u) << "while hosted, the workers must not run jobs";

  // The actor's job may still be between its last handler and its end on the loop: let it end,
  // or it would take the next message there itself.
  host_.settle();
  host_.unhost();
  for (int i = 1000; i < 2000; ++i)
    caf::anon_send(a, i);
  ASSERT_TRUE(wait_for(s->handled, 2000));
  EXPECT_EQ(handled_off_host(*s, 1000, 2000), 1000u) << "once unhosted, the workers run them";
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(JobHost, NoMessageIsLostOrReorderedWhileTheHostComesAndGoes) {
  auto s = std::make_shared<sightings>();
  auto a = sys_.spawn(counting, s);
  constexpr int total = 50000;
  std::atomic<bool> sending{true};
  std::thread sender{[&] {
    for (int i = 0; i < total; ++i)
      caf::anon_send(a, i);
    sending = false;
  }};
  // Hand the queue back and forth while messages keep coming.
  int handovers = 0;
  do {
    host_.host();
    std::this_thread::sleep_for(200us);
    host_.unhost();
    ++handovers;
  } while (sending);
  sender.join();
  ASSERT_TRUE(wait_for(s->handled, total)) << s->handled.load() << " handled";
  std::lock_guard<std::mutex> guard{s->mu};
  for (int i = 0; i < total; ++i)
    ASSERT_EQ(s->values[static_cast<std::size_t>(i)], i) << "after " << handovers << " handovers";
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

} // namespace
