// The gateway's TCP client sockets when one Asio thread runs it, and nanocaf-bench's: a
// level-triggered epoll set of our own, which the io_context waits on once per batch of ready
// sockets.
//
// Why not Asio's sockets there: Boost 1.74's reactor re-arms its (edge-triggered) epoll
// registration with an epoll_ctl(2) for every wait for readability, one system call per
// request beside the recv and the send, and it handles every arrival of data as an event of
// its own even when no operation waits for it. Trying the next read without waiting saves the
// call only while the client has answered by then, and serves such clients more often than
// those waiting in epoll (at most 128 of them come back per pass of the event loop). Here a
// socket is added once, and each batch reports every ready socket, in the order they became
// ready, up to 1024 of them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace nanocaf::detail {

/// What the poller calls back. on_readable() also reports errors and hang-ups (the read then
/// finds them), and may come when nothing is left to read: reads must expect EAGAIN.
class pollable {
public:
  virtual void on_readable() = 0;
  virtual void on_writable() = 0;

protected:
  ~pollable() = default;
};

/// For an io_context run by one thread: everything here, and every callback, runs on it.
class poller {
public:
  explicit poller(boost::asio::io_context& ioc);
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  /// Watches `fd` for reading until remove(fd), keeping `p` alive meanwhile. false (errno
  /// set) if epoll refused it.
  bool add(int fd, std::shared_ptr<pollable> p);
  /// Changes what `fd` is watched for (neither: only errors and hang-ups).
  void watch(int fd, bool readable, bool writable);
  /// Stops watching `fd` and lets go of its pollable. Before the descriptor closes.
  void remove(int fd);
  /// Stops waiting, so that the io_context can run out of work (nanocaf-bench's end).
  void stop();

private:
  struct wait_handler; // allocated at its own size (exact_size_allocator.hpp)

  void wait();
  void run_ready();
  void end_batch(); // releases what the batch held, then waits for the next

  int epoll_fd_;
  boost::asio::posix::stream_descriptor waiter_; // the epoll descriptor, as the io_context sees it
  std::vector<std::shared_ptr<pollable>> watched_; // by descriptor
  std::array<epoll_event, 1024> events_;           // the batch being run (one at a time)
  struct ready {
    pollable* target;
    std::uint32_t events;
  };
  std::vector<ready> batch_;
  // What remove() let go of while a batch runs, released after it: an earlier callback may
  // end a later socket of the same batch. (Holding a reference per event instead would cost
  // two atomic operations per request.)
  std::vector<std::shared_ptr<pollable>> released_;
  bool in_batch_ = false;
  bool stopped_ = false;
};

} // namespace nanocaf::detail
