#include "detail/polled_tcp_connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <system_error>

#include <boost/asio/post.hpp>

namespace nanocaf::detail {

namespace {
std::string error_text(int err) { return std::error_code(err, std::system_category()).message(); }
} // namespace

polled_tcp_connection::polled_tcp_connection(boost::asio::ip::tcp::socket socket,
                                             serial_executor ex, std::string remote, settings s,
                                             connection_registry* registry,
                                             std::shared_ptr<gateway_liveness> live,
                                             transport_metrics& stats)
  : connection(std::move(ex), std::move(remote), s, registry, std::move(live), stats),
    fd_(-1),
    poller_(*s.client_poller) {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  socket.non_blocking(true, ignored);
  // Out of Asio's reactor: it would otherwise handle every arrival of data as an event.
  fd_ = socket.release(ignored);
}

polled_tcp_connection::~polled_tcp_connection() {
  if (fd_ >= 0)
    ::close(fd_);
}

void polled_tcp_connection::start_reading() {
  if (finished() || polled_ || fd_ < 0)
    return; // level-triggered: the poller reports the socket while anything is unread
  polled_ = poller_.add(fd_, std::static_pointer_cast<polled_tcp_connection>(shared_from_this()));
  if (!polled_)
    fail("read failed: " + error_text(errno));
}

void polled_tcp_connection::on_readable() {
  if (lingering_) {
    drain();
    return;
  }
  if (finished())
    return;
  if (!reading_) {
    // An error or a hang-up while the last bytes wait: the write finds it.
    if (writing_)
      write_some();
    return;
  }
  if (!read_available()) {
    reading_ = false;
    update_watch(); // may let go of this connection: the poller holds it for this call
  }
}

bool polled_tcp_connection::read_available() {
  auto& buffer = thread_read_buffer();
  for (;;) {
    auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return true;
      fail("read failed: " + error_text(errno));
      return false;
    }
    if (n == 0) {
      finish("peer closed");
      return false;
    }
    if (!on_received(buffer.data(), static_cast<std::size_t>(n)))
      return false; // stream broken or closing: the session or the close frame ends us
    if (static_cast<std::size_t>(n) < buffer.size())
      return true; // drained
  }
}

std::ptrdiff_t polled_tcp_connection::write_now(std::string_view bytes) {
  // Any thread, with the queue lock held (see connection::write_now): a plain non-blocking
  // send(2), touching no state of the strand's.
  auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return n < 0 ? -1 : n;
}

void polled_tcp_connection::write_batch(const std::vector<shared_bytes>& batch) {
  gather_.clear();
  gather_at_ = 0;
  for (auto& p : batch)
    gather_.push_back({const_cast<char*>(p->data()), p->size()});
  write_some();
}

void polled_tcp_connection::write_some() {
  while (gather_at_ < gather_.size()) {
    msghdr msg{};
    msg.msg_iov = gather_.data() + gather_at_;
    msg.msg_iovlen = std::min<std::size_t>(gather_.size() - gather_at_, IOV_MAX);
    auto n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!writing_) {
          writing_ = true;
          update_watch();
        }
        return;
      }
      auto err = errno;
      writing_ = false;
      on_written(boost::system::error_code(err, boost::system::system_category()));
      return;
    }
    auto left = static_cast<std::size_t>(n);
    while (gather_at_ < gather_.size() && left >= gather_[gather_at_].iov_len)
      left -= gather_[gather_at_++].iov_len;
    if (left > 0) {
      auto& part = gather_[gather_at_];
      part.iov_base = static_cast<char*>(part.iov_base) + left;
      part.iov_len -= left;
    }
  }
  if (writing_) {
    writing_ = false;
    update_watch();
  }
  // As an Asio write would: the completion comes after this call, not inside it, so that the
  // next flush does not nest in this one.
  auto self = std::static_pointer_cast<polled_tcp_connection>(shared_from_this());
  boost::asio::post(ex_, [self = std::move(self)] { self->on_written({}); });
}

void polled_tcp_connection::on_writable() {
  if (writing_ && !finished())
    write_some();
}

void polled_tcp_connection::update_watch() {
  if (!polled_)
    return;
  if (reading_ || writing_) {
    poller_.watch(fd_, reading_, writing_);
    return;
  }
  // Nothing to wait for: as with Asio, whatever is under way (the close frame's write, the
  // session's end) keeps the connection.
  polled_ = false;
  poller_.remove(fd_);
}

void polled_tcp_connection::close_socket() {
  if (polled_) {
    polled_ = false;
    poller_.remove(fd_);
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (linger_timer_)
    linger_timer_->cancel();
}

void polled_tcp_connection::shutdown_transport(bool graceful) {
  auto self = shared_from_this(); // the poller may hold the last reference
  writing_ = false;
  if (!graceful || fd_ < 0) {
    close_socket();
    return;
  }
  // After a kick: send FIN, drain what the peer still sends, close on its FIN or a deadline.
  // Closing with unread input would send RST and could destroy the kick in flight.
  ::shutdown(fd_, SHUT_WR);
  lingering_ = true;
  reading_ = true;
  linger_timer_ = std::make_unique<boost::asio::steady_timer>(ex_, std::chrono::seconds(2));
  linger_timer_->async_wait(
    [self = std::static_pointer_cast<polled_tcp_connection>(shared_from_this())](
      const boost::system::error_code&) { self->close_socket(); });
  if (polled_)
    poller_.watch(fd_, true, false);
  else
    polled_ = poller_.add(fd_, std::static_pointer_cast<polled_tcp_connection>(self));
  if (!polled_)
    close_socket();
}

void polled_tcp_connection::drain() {
  if (fd_ < 0)
    return;
  auto& buffer = thread_read_buffer();
  for (;;) {
    auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0 && (lingered_bytes_ += static_cast<std::size_t>(n)) <= max_linger_bytes)
      continue;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return; // more may come before the FIN
    close_socket(); // the peer's FIN, an error, or still sending after its kick: done
    return;
  }
}

} // namespace nanocaf::detail
