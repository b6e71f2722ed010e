#include "detail/tcp_connection.hpp"

#include <sys/socket.h>

#include <array>
#include <cassert>
#include <utility>

#include <boost/asio/write.hpp>

#include "detail/exact_size_allocator.hpp"

namespace nanocaf::detail {

tcp_connection::tcp_connection(boost::asio::ip::tcp::socket socket, serial_executor ex,
                               std::string remote, settings s, connection_registry* registry,
                               std::shared_ptr<gateway_liveness> live, transport_metrics& stats)
  : connection(std::move(ex), std::move(remote), s, registry, std::move(live), stats),
    socket_(std::move(socket)) {
  assert(socket_.get_executor() == ex_ && "handlers rely on the socket's executor being ex_");
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  socket_.non_blocking(true, ignored);
}

// The socket and the linger timer were made on ex_, so their handlers run on it without
// bind_executor: a bound handler would carry two more polymorphic executors (96 bytes).

struct tcp_connection::readable_handler {
  std::shared_ptr<tcp_connection> self;

  using allocator_type = exact_size_allocator<void>;
  allocator_type get_allocator() const noexcept { return {}; }

  void operator()(const boost::system::error_code& ec) const { self->on_readable(ec); }
};

void tcp_connection::start_reading() {
  if (finished())
    return;
  auto self = std::static_pointer_cast<tcp_connection>(shared_from_this());
  socket_.async_wait(boost::asio::ip::tcp::socket::wait_read, readable_handler{std::move(self)});
}

void tcp_connection::on_readable(const boost::system::error_code& ec) {
  if (finished())
    return;
  if (ec) {
    fail("read failed: " + ec.message());
    return;
  }
  auto& read_buffer = thread_read_buffer();
  for (;;) {
    boost::system::error_code rec;
    auto n = socket_.read_some(boost::asio::buffer(read_buffer), rec);
    if (rec == boost::asio::error::would_block || rec == boost::asio::error::try_again)
      break;
    if (rec) {
      finish(rec == boost::asio::error::eof ? std::string{"peer closed"}
                                             : "read failed: " + rec.message());
      return;
    }
    if (!on_received(read_buffer.data(), n))
      return; // stream broken or closing: the session or the close frame ends us
    if (n < read_buffer.size())
      break; // drained
  }
  start_reading();
}

std::ptrdiff_t tcp_connection::write_now(std::string_view bytes) {
  // A plain non-blocking send(2) on the descriptor: no Asio state is touched, so it is safe
  // beside the strand's pending wait for readability.
  auto n = ::send(socket_.native_handle(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return n < 0 ? -1 : n;
}

void tcp_connection::write_batch(const std::vector<shared_bytes>& batch) {
  gather_.clear();
  for (auto& p : batch)
    gather_.emplace_back(p->data(), p->size());
  // One write (writev) for everything queued since the last one.
  boost::asio::async_write(
    socket_, gather_,
    [self = std::static_pointer_cast<tcp_connection>(shared_from_this())](
      const boost::system::error_code& ec, std::size_t) { self->on_written(ec); });
}

void tcp_connection::shutdown_transport(bool graceful) {
  boost::system::error_code ignored;
  if (!graceful) {
    socket_.close(ignored);
    return;
  }
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  linger_timer_ = std::make_unique<boost::asio::steady_timer>(ex_, std::chrono::seconds(2));
  linger_timer_->async_wait(
    [self = std::static_pointer_cast<tcp_connection>(shared_from_this())](
      const boost::system::error_code&) {
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
  linger();
}

void tcp_connection::linger() {
  socket_.async_wait(
    boost::asio::ip::tcp::socket::wait_read,
    [self = std::static_pointer_cast<tcp_connection>(shared_from_this())](
      const boost::system::error_code& ec) {
      if (ec)
        return; // closed by the deadline
      boost::system::error_code rec;
      bool cut_off = false;
      for (;;) {
        auto n = self->socket_.read_some(boost::asio::buffer(thread_read_buffer()), rec);
        if (rec)
          break;
        if ((self->lingered_bytes_ += n) > max_linger_bytes) {
          cut_off = true; // still sending after its kick
          break;
        }
      }
      if (!cut_off
          && (rec == boost::asio::error::would_block || rec == boost::asio::error::try_again)) {
        self->linger();
        return;
      }
      self->linger_timer_->cancel(); // the peer's FIN (or an error): done
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
}

} // namespace nanocaf::detail
