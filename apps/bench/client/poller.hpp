// The data path of nanocaf-bench's connections: a level-triggered epoll set of its own, waited
// on through the io_context (one wait per batch of ready sockets). A connection in it costs one
// recv(2) per read and one send(2) per request, as a hand-written load client does. Asio's
// sockets cost more: Boost 1.74 tries every read once before it waits (a recv(2) that fails,
// one call in three per request), and each wait for readability re-arms its edge-triggered
// epoll (an epoll_ctl(2) instead). Connecting and the WebSocket upgrade stay with Asio and Beast.
#pragma once

#include <cstdint>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace nanocaf::bench {

/// What the poller calls back: one object per descriptor, alive while it is registered. Errors
/// and hang-ups come as on_readable(), where the read reports them.
class pollable {
public:
  virtual void on_readable() = 0;
  virtual void on_writable() = 0;

protected:
  ~pollable() = default;
};

class poller {
public:
  explicit poller(boost::asio::io_context& ioc);
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  /// Watches `fd` for reading, level-triggered; false if epoll refused it.
  bool add(int fd, pollable& p);
  /// Changes what `fd` is watched for.
  void watch(int fd, pollable& p, bool readable, bool writable);
  void remove(int fd);
  /// Stops waiting, so that the io_context can run out of work.
  void stop();

private:
  void wait();
  void run_ready();

  int epoll_fd_;
  boost::asio::posix::stream_descriptor waiter_; // the epoll descriptor, as the io_context sees it
  bool stopped_ = false;
};

} // namespace nanocaf::bench
