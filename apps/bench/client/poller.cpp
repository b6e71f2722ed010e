#include "poller.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

#include <boost/asio/post.hpp>

namespace nanocaf::bench {

poller::poller(boost::asio::io_context& ioc)
  : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), waiter_(ioc) {
  if (epoll_fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "epoll_create1");
  waiter_.assign(epoll_fd_);
  wait();
}

poller::~poller() {
  boost::system::error_code ignored;
  waiter_.close(ignored); // closes epoll_fd_
}

bool poller::add(int fd, pollable& p) {
  epoll_event ev{};
  ev.events = EPOLLIN; // level-triggered: a socket not drained in one read is reported again
  ev.data.ptr = &p;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void poller::watch(int fd, pollable& p, bool readable, bool writable) {
  epoll_event ev{};
  ev.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
  ev.data.ptr = &p;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void poller::remove(int fd) { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void poller::stop() {
  boost::system::error_code ignored;
  waiter_.cancel(ignored);
  stopped_ = true;
}

void poller::wait() {
  waiter_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (!ec && !stopped_)
                         run_ready();
                     });
}

// One batch of ready sockets. While there are more, the next batch is posted rather than run in
// a loop, so that timers and other handlers get their turn. The io_context watches the epoll
// descriptor edge-triggered, so a socket still ready after its read would not wake it again:
// the wait begins only when a batch comes back empty, and the re-arming makes epoll report at
// once what became ready in between.
void poller::run_ready() {
  std::array<epoll_event, 256> events;
  int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
  for (int i = 0; i < n; ++i) {
    auto& p = *static_cast<pollable*>(events[static_cast<std::size_t>(i)].data.ptr);
    auto what = events[static_cast<std::size_t>(i)].events;
    if (what & EPOLLOUT)
      p.on_writable();
    if (what & (EPOLLIN | EPOLLERR | EPOLLHUP))
      p.on_readable();
  }
  if (stopped_) // a callback ended the run
    return;
  if (n > 0)
    boost::asio::post(waiter_.get_executor(), [this] {
      if (!stopped_)
        run_ready();
    });
  else
    wait();
}

} // namespace nanocaf::bench
