#include "detail/poller.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "detail/exact_size_allocator.hpp"

namespace nanocaf::detail {

poller::poller(boost::asio::io_context& ioc)
  : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), waiter_(ioc) {
  if (epoll_fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "epoll_create1");
  waiter_.assign(epoll_fd_);
  batch_.reserve(events_.size());
  wait();
}

poller::~poller() {
  boost::system::error_code ignored;
  waiter_.close(ignored); // closes epoll_fd_
}

bool poller::add(int fd, std::shared_ptr<pollable> p) {
  auto slot = static_cast<std::size_t>(fd);
  if (watched_.size() <= slot)
    watched_.resize(slot + 1);
  watched_[slot] = std::move(p);
  epoll_event ev{};
  ev.events = EPOLLIN; // level-triggered: a socket not drained by one read is reported again
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0)
    return true;
  auto err = errno; // for the caller's message
  watched_[slot].reset();
  errno = err;
  return false;
}

void poller::watch(int fd, bool readable, bool writable) {
  epoll_event ev{};
  ev.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void poller::remove(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  auto slot = static_cast<std::size_t>(fd);
  if (slot >= watched_.size() || !watched_[slot])
    return;
  if (in_batch_)
    released_.push_back(std::move(watched_[slot]));
  else
    watched_[slot].reset();
}

void poller::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  waiter_.cancel(ignored);
}

struct poller::wait_handler {
  poller* self;

  using allocator_type = exact_size_allocator<void>;
  allocator_type get_allocator() const noexcept { return {}; }

  void operator()(const boost::system::error_code& ec) const {
    if (!ec && !self->stopped_)
      self->run_ready();
  }
};

void poller::wait() {
  waiter_.async_wait(boost::asio::posix::stream_descriptor::wait_read, wait_handler{this});
}

// One batch of ready sockets, then the wait for the next. Waiting again at once (rather than
// posting the next batch) costs an epoll_ctl per batch, as Asio re-arms the epoll descriptor,
// but a lone client's request no more than one wait; and the handlers queued meanwhile (the
// actors' turn with the replies, accepts, timers) still come first: the io_context polls its
// own epoll only once they have run. It watches the epoll descriptor edge-triggered, and
// re-arming makes it report at once what is ready in this set by then.
void poller::run_ready() {
  int n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), 0);
  // Taken before any callback runs: a pollable removed by an earlier one stays alive (in
  // released_) and gets a call that finds nothing to do.
  for (int i = 0; i < n; ++i) {
    auto& ev = events_[static_cast<std::size_t>(i)];
    auto slot = static_cast<std::size_t>(ev.data.fd);
    if (slot < watched_.size() && watched_[slot])
      batch_.push_back({watched_[slot].get(), ev.events});
  }
  in_batch_ = true;
  try {
    for (auto& r : batch_) {
      if (r.events & EPOLLOUT)
        r.target->on_writable();
      if (r.events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        r.target->on_readable();
    }
  } catch (...) {
    // The thread's loop logs it and goes on: the watch must go on too (what the batch did not
    // reach is still ready, and is reported again).
    end_batch();
    throw;
  }
  end_batch();
}

void poller::end_batch() {
  in_batch_ = false;
  batch_.clear();
  released_.clear();
  if (!stopped_) // a callback may have ended the run
    wait();
}

} // namespace nanocaf::detail
