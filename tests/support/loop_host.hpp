// An event loop (an Asio io_context on a thread of its own) that hosts an actor system's jobs
// the way the gateway's Asio thread does under the "io" scheduler policy.
#pragma once

#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "detail/shared_queue_scheduler.hpp"

namespace nanocaf::test {

class loop_host {
public:
  /// `sys` must run nanocaf's shared queue scheduler.
  explicit loop_host(caf::actor_system& sys)
    : port_(*nanocaf::detail::job_host_port_of(sys)), thread_([this] { ioc_.run(); }) {}

  ~loop_host() {
    unhost();
    work_.reset();
    thread_.join();
  }

  bool host() {
    return port_.host([this] { boost::asio::post(ioc_, [this] { port_.run_hosted(); }); });
  }
  void unhost() { port_.unhost(); }
  /// Returns once the loop has finished what it was running: a turn of jobs runs inside one
  /// handler, so a job that was under way on the loop has returned by then.
  void settle() {
    std::promise<void> done;
    boost::asio::post(ioc_, [&done] { done.set_value(); });
    done.get_future().wait();
  }
  std::thread::id thread_id() const { return thread_.get_id(); }

private:
  nanocaf::detail::job_host_port& port_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
    ioc_.get_executor()};
  std::thread thread_;
};

} // namespace nanocaf::test
