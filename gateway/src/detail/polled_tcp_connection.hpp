// A raw TCP client connection (spec 1.1) for a gateway run by one Asio thread: the socket is
// taken from Asio after the accept and watched in the gateway's poller (see poller.hpp), so a
// request costs one recv(2) and one send(2), and the event loop sees one event per batch of
// ready clients instead of one per client. Like tcp_connection it holds no read buffer while
// idle, and not even a pending operation.
#pragma once

#include <sys/uio.h>

#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "detail/connection_outlet.hpp"
#include "detail/poller.hpp"

namespace nanocaf::detail {

class polled_tcp_connection final : public connection, public pollable {
public:
  /// `s.client_poller` must be set.
  polled_tcp_connection(boost::asio::ip::tcp::socket socket, serial_executor ex,
                        std::string remote, settings s, connection_registry* registry,
                        std::shared_ptr<gateway_liveness> live, transport_metrics& stats);
  ~polled_tcp_connection() override;

protected:
  void start_reading() override;
  void write_batch(const std::vector<shared_bytes>& batch) override;
  void shutdown_transport(bool graceful) override;
  std::ptrdiff_t write_now(std::string_view bytes) override;
  void on_readable() override;
  void on_writable() override;

private:
  /// Reads what has come and hands it on; false when the connection ended or stops reading.
  bool read_available();
  /// Writes what is left of the batch; waits for the socket to take more when it is full.
  void write_some();
  /// Tells the poller what to watch now, or lets go of this connection when nothing.
  void update_watch();
  void close_socket();
  /// After a kick: reads and drops what the peer still sends, until its FIN.
  void drain();

  int fd_;
  poller& poller_;
  bool polled_ = false;  // in poller_ (which then keeps this alive)
  bool reading_ = true;  // false once the stream ends after what is being written
  bool writing_ = false; // a batch waits for the socket to take it
  bool lingering_ = false;
  std::size_t lingered_bytes_ = 0; // read and dropped after a kick (max_linger_bytes)
  std::vector<iovec> gather_; // the batch being written; what is written is dropped from it
  std::size_t gather_at_ = 0;
  std::unique_ptr<boost::asio::steady_timer> linger_timer_; // made at a kick
};

} // namespace nanocaf::detail
