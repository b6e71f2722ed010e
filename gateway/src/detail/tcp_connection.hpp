// A raw TCP client connection (spec 1.1) on an Asio socket, for a gateway run by several Asio
// threads (one thread: polled_tcp_connection). Waits for readability instead of keeping a read
// buffer, so an idle connection holds none; reads go into one buffer per Asio thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "detail/connection_outlet.hpp"

namespace nanocaf::detail {

class tcp_connection final : public connection {
public:
  tcp_connection(boost::asio::ip::tcp::socket socket, serial_executor ex, std::string remote,
                 settings s, connection_registry* registry,
                 std::shared_ptr<gateway_liveness> live, transport_metrics& stats);

protected:
  void start_reading() override;
  void write_batch(const std::vector<shared_bytes>& batch) override;
  void shutdown_transport(bool graceful) override;
  std::ptrdiff_t write_now(std::string_view bytes) override;

private:
  struct readable_handler; // the wait's handler, allocated at its own size
  void on_readable(const boost::system::error_code& ec);
  // After a kick: send FIN, drain what the peer still sends, close on its FIN or a deadline.
  // Closing with unread input would send RST and could destroy the kick in flight.
  void linger();

  std::unique_ptr<boost::asio::steady_timer> linger_timer_; // made at a kick: idle ones hold none
  std::size_t lingered_bytes_ = 0; // read and dropped after the kick (max_linger_bytes)
  boost::asio::ip::tcp::socket socket_;
  std::vector<boost::asio::const_buffer> gather_; // reused for every write
};

} // namespace nanocaf::detail
