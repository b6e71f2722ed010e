#include "detail/tcp_connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace nanocaf::detail {

namespace {
// One read buffer per Asio thread: a read is finished before the next handler runs.
constexpr std::size_t read_chunk = 64 * 1024;
thread_local std::array<char, read_chunk> read_buffer;
// A client whose replies come later than the actors' turn (on a gate they come back from
// another node) would make every try fail: one recvfrom more per request. After failed tries
// a connection waits for readability before trying again, 1, 2, 4... up to this many times,
// back to once after a try that paid, so that a stray failure costs little.
constexpr std::uint8_t max_waits_between_retries = 16;
} // namespace

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

namespace {
// At the operation's own size, with one spare block per thread. Asio otherwise takes an
// operation's memory from a per-thread cache of recently freed blocks, whatever their size:
// the wait each idle connection keeps pending would hold the block of the accept before it
// (about 300 bytes). The spare block keeps the busy path (a wait ends, the next begins) free
// of malloc and free.
struct spare_block {
  void* block = nullptr;
  std::size_t size = 0;
  ~spare_block() { ::operator delete(block); } // at the thread's exit
};
thread_local spare_block spare;

template <class T>
struct exact_size_allocator {
  using value_type = T;
  exact_size_allocator() noexcept = default;
  template <class U>
  exact_size_allocator(const exact_size_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    auto size = n * sizeof(T);
    if (spare.block != nullptr && spare.size == size)
      return static_cast<T*>(std::exchange(spare.block, nullptr));
    return static_cast<T*>(::operator new(size));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (spare.block == nullptr) {
      spare.block = p;
      spare.size = n * sizeof(T);
      return;
    }
    ::operator delete(p);
  }
  template <class U>
  bool operator==(const exact_size_allocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const exact_size_allocator<U>&) const noexcept { return false; }
};
} // namespace

struct tcp_connection::readable_handler {
  std::shared_ptr<tcp_connection> self;

  using allocator_type = exact_size_allocator<void>;
  allocator_type get_allocator() const noexcept { return {}; }

  void operator()(const boost::system::error_code& ec) const { self->on_readable(ec, false); }
};

void tcp_connection::start_reading() {
  if (finished())
    return;
  auto self = std::static_pointer_cast<tcp_connection>(shared_from_this());
  socket_.async_wait(boost::asio::ip::tcp::socket::wait_read, readable_handler{std::move(self)});
}

void tcp_connection::on_readable(const boost::system::error_code& ec, bool retry) {
  if (finished())
    return;
  if (ec) {
    finish("read failed: " + ec.message());
    return;
  }
  bool got_data = false;
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
    got_data = true;
    if (!on_received(read_buffer.data(), n))
      return; // stream broken or closing: the session or the close frame ends us
    if (n < read_buffer.size())
      break; // drained
  }
  if (retry && got_data) {
    retry_backoff_ = 1; // the try paid: the next failure waits once only
  } else if (retry) {
    waits_before_retry_ = retry_backoff_;
    retry_backoff_ = std::min<std::uint8_t>(retry_backoff_ * 2, max_waits_between_retries);
  }
  if (got_data && reads_after_actors()) {
    if (waits_before_retry_ == 0) {
      // The actors run on this thread, after the handlers queued before their turn: try the
      // next read behind them, once the reply is out, as raw-echo reads after its write. A
      // client in a conversation has usually sent its next request by then, so the read needs
      // no wait for readability, whose epoll_ctl (Asio 1.74 re-arms the descriptor for every
      // async_wait) was one system call in three per request. When nothing has come, the wait
      // begins then.
      boost::asio::post(ex_, [self = std::static_pointer_cast<tcp_connection>(shared_from_this())] {
        self->on_readable({}, true);
      });
      return;
    }
    --waits_before_retry_;
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
      for (;;) {
        self->socket_.read_some(boost::asio::buffer(read_buffer), rec);
        if (rec)
          break;
      }
      if (rec == boost::asio::error::would_block || rec == boost::asio::error::try_again) {
        self->linger();
        return;
      }
      self->linger_timer_->cancel(); // the peer's FIN (or an error): done
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
}

} // namespace nanocaf::detail
