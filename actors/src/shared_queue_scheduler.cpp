#include "detail/shared_queue_scheduler.hpp"

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include "detail/deferred_writes.hpp"

namespace nanocaf::detail {

namespace {

class shared_queue_scheduler;

// A worker thread: runs whatever the queue gives it. It is also the execution unit that the
// running actor hands newly woken actors to (exec_later), which puts them on the queue. The
// scheduler's host_unit_ is one that never starts its thread: a host's turns run jobs with it.
class worker final : public caf::execution_unit {
public:
  explicit worker(shared_queue_scheduler& parent);

  void start();
  void join() { thread_.join(); }
  void exec_later(caf::resumable* job) override;
  /// Runs one job on the calling thread. False when the job asks its thread to stop.
  bool run_one(caf::resumable* job, std::size_t throughput);

private:
  void run();

  shared_queue_scheduler& parent_;
  std::thread thread_;
};

class shared_queue_scheduler final : public caf::scheduler::abstract_coordinator,
                                     public job_host_port {
public:
  static constexpr int yields_before_sleep = 3;

  explicit shared_queue_scheduler(caf::actor_system& sys)
    : abstract_coordinator(sys), host_unit_(*this) {}

  /// Any thread. A null job tells the worker that takes it to stop.
  void enqueue(caf::resumable* job) override {
    std::unique_lock<std::mutex> guard{mu_};
    jobs_.push_back(job);
    if (hosted_) {
      if (!host_woken_) {
        host_woken_ = true;
        host_wake_(); // under the lock: unhost() cannot return while a wake is under way
      }
      return;
    }
    if (sleeping_ == 0)
      return; // every worker is busy and will look at the queue again: no wake-up call
    guard.unlock();
    cv_.notify_one();
  }

  /// Blocks until there is a job (worker threads only). `finished_one`: the caller ran the
  /// job the last call gave it (so it no longer counts as running one).
  caf::resumable* dequeue(bool finished_one) {
    std::unique_lock<std::mutex> guard{mu_};
    if (finished_one && --running_ == 0 && hosted_)
      idle_cv_.notify_all(); // host() waits for the last job that started before it
    // Before sleeping, give the core away a few times: on a shared core the thread that
    // feeds us (an Asio thread in the middle of a batch of reads) runs on, and queues its
    // jobs without waking us for each one. Asleep, every job would wake us, and the woken
    // worker would take the core back after each single job.
    for (int round = 0; jobs_.empty() && !hosted_ && round < yields_before_sleep; ++round) {
      guard.unlock();
      std::this_thread::yield();
      guard.lock();
    }
    while (jobs_.empty() || hosted_) {
      ++sleeping_;
      cv_.wait(guard);
      --sleeping_;
    }
    auto* job = jobs_.front();
    jobs_.pop_front();
    ++running_;
    return job;
  }

  caf::actor_clock& clock() noexcept override { return clock_; }

  bool host(std::function<void()> wake) override {
    std::unique_lock<std::mutex> guard{mu_};
    if (hosted_)
      return false;
    hosted_ = true;
    host_wake_ = std::move(wake);
    host_woken_ = !jobs_.empty();
    if (host_woken_)
      host_wake_();
    // A worker that took a job before this point would go on running that actor's messages
    // (CAF resumes an actor for as long as its mailbox has some): wait until every such job
    // is done, so that from here on the actors run on the host only. Bounded, in case one
    // runs for ever; a loaded machine may delay a worker by a few time slices.
    idle_cv_.wait_for(guard, std::chrono::seconds(2), [this] { return running_ == 0; });
    return true;
  }

  void run_hosted() override;

  void unhost() override {
    {
      std::lock_guard<std::mutex> guard{mu_};
      if (!hosted_)
        return;
      hosted_ = false;
      host_woken_ = false;
      host_wake_ = nullptr;
    }
    cv_.notify_all(); // whatever is queued is the workers' again
  }

protected:
  void start() override {
    auto n = num_workers() == 0 ? 1 : num_workers();
    for (std::size_t i = 0; i < n; ++i)
      workers_.push_back(std::make_unique<worker>(*this));
    for (auto& w : workers_)
      w->start();
    // Timeouts and delayed messages are dispatched by CAF's clock on a thread of its own.
    clock_thread_ = std::thread{[this] {
      pthread_setname_np(pthread_self(), "caf.clock");
      system().thread_started();
      clock_.run_dispatch_loop();
      system().thread_terminates();
    }};
    abstract_coordinator::start(); // the utility actors
  }

  void stop() override {
    unhost(); // the stop marks below are for the workers
    // The stop marks queue up behind whatever is still to run, one per worker.
    for (std::size_t i = 0; i < workers_.size(); ++i)
      enqueue(nullptr);
    for (auto& w : workers_)
      w->join();
    stop_actors(); // the utility actors run detached, on threads of their own
    // Jobs that arrived after the stop marks (from the clock or foreign threads).
    std::deque<caf::resumable*> rest;
    {
      std::lock_guard<std::mutex> guard{mu_};
      rest.swap(jobs_);
    }
    for (auto* job : rest)
      if (job != nullptr)
        cleanup_and_release(job);
    clock_.cancel_dispatch_loop();
    clock_thread_.join();
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<caf::resumable*> jobs_; // deque: its blocks are reused, no allocation per job
  std::size_t sleeping_ = 0;         // workers waiting on cv_
  std::size_t running_ = 0;          // jobs workers took and have not finished
  std::condition_variable idle_cv_;  // host() waits on it for running_ to reach 0
  bool hosted_ = false;              // the host runs the jobs, the workers sleep
  bool host_woken_ = false;          // a run_hosted() is due on the host's thread
  std::function<void()> host_wake_;
  worker host_unit_;                 // the execution unit of the host's thread (no thread of its own)
  std::vector<std::unique_ptr<worker>> workers_;
  caf::detail::thread_safe_actor_clock clock_;
  std::thread clock_thread_;
};

worker::worker(shared_queue_scheduler& parent)
  : caf::execution_unit(&parent.system()), parent_(parent) {}

void worker::start() {
  thread_ = std::thread{[this] {
    pthread_setname_np(pthread_self(), "caf.worker");
    system().thread_started();
    run();
    system().thread_terminates();
  }};
}

void worker::exec_later(caf::resumable* job) { parent_.enqueue(job); }

void worker::run() {
  const auto throughput = parent_.max_throughput();
  for (bool ran = false;; ran = true) {
    auto* job = parent_.dequeue(ran);
    if (job == nullptr || !run_one(job, throughput))
      return;
  }
}

bool worker::run_one(caf::resumable* job, std::size_t throughput) {
  caf::resumable::resume_result result;
  {
    // What the job sends one client goes out in one write when it ends (or every few
    // handlers): a burst of broadcasts costs each member one system call.
    write_deferral deferral;
    result = job->resume(this, throughput);
  }
  switch (result) {
    case caf::resumable::resume_later:
      parent_.enqueue(job); // it used up its share: behind the others (keeps our reference)
      return true;
    case caf::resumable::done:
    case caf::resumable::awaiting_message:
      caf::intrusive_ptr_release(job); // the reference taken when it was scheduled
      return true;
    case caf::resumable::shutdown_execution_unit:
      return false;
  }
  return true;
}

void shared_queue_scheduler::run_hosted() {
  const auto throughput = max_throughput();
  std::unique_lock<std::mutex> guard{mu_};
  // Only the jobs that were waiting: a job that wakes another, or itself, does not keep the
  // loop from its sockets.
  for (auto due = jobs_.size(); due > 0 && hosted_ && !jobs_.empty(); --due) {
    auto* job = jobs_.front();
    jobs_.pop_front();
    guard.unlock();
    host_unit_.run_one(job, throughput);
    guard.lock();
  }
  host_woken_ = hosted_ && !jobs_.empty();
  if (host_woken_)
    host_wake_();
}

} // namespace

job_host_port* job_host_port_of(caf::actor_system& sys) {
  return dynamic_cast<shared_queue_scheduler*>(&sys.scheduler());
}

caf::actor_system::module* make_shared_queue_scheduler(caf::actor_system& sys) {
  return new shared_queue_scheduler(sys);
}

} // namespace nanocaf::detail
