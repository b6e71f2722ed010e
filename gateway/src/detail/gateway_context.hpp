// What the listeners and HTTP sessions of one gateway share.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "detail/connection.hpp"
#include "detail/connection_outlet.hpp"
#include "detail/poller.hpp"
#include "nanocaf/gateway/gateway.hpp"

namespace boost::asio::ssl {
class context;
}

namespace nanocaf::detail {

struct gateway_context {
  gateway_context(runtime& r, gateway_options o)
    : rt(r), options(std::move(o)), stats(r.metrics()) {
    settings.write_queue = options.write_queue_limit;
    settings.max_packet_body = options.max_packet_body;
  }

  /// Registers a new client connection and starts it, or closes it when the node is full.
  void open(const std::shared_ptr<connection>& c);
  /// A connection on a plain (not TLS) client socket: polled when one Asio thread runs the
  /// gateway (see poller.hpp), on the Asio socket otherwise.
  std::shared_ptr<connection> plain_connection(boost::asio::ip::tcp::socket socket,
                                               serial_executor ex, std::string remote,
                                               transport_metrics& transport);

  runtime& rt;
  const gateway_options options;
  connection::settings settings;
  gateway_metrics stats;
  connection_registry registry;
  std::shared_ptr<gateway_liveness> live = std::make_shared<gateway_liveness>();
  /// Set when clients speak TLS (gateway_options::tls_cert); shared so this header needs no
  /// OpenSSL.
  std::shared_ptr<boost::asio::ssl::context> tls;
  boost::asio::io_context ioc;
  /// With one Asio thread: where plain TCP clients are watched (settings.client_poller).
  /// After ioc, so that it goes first, with the connections it holds.
  std::unique_ptr<poller> client_poller;
};

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep);

/// Reads HTTP requests on a freshly accepted WebSocket-port socket (after a TLS handshake when
/// ctx.tls is set): upgrades on the WebSocket path, serves static files, answers 404
/// otherwise. Defined in http_session.cpp.
void serve_http(boost::asio::ip::tcp::socket socket, serial_executor ex, gateway_context& ctx);

/// A TLS server context from PEM files; throws std::runtime_error naming the bad file.
/// Defined in tls_connection.cpp.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert,
                                                            const std::string& key);

/// Runs the TLS handshake on a raw TCP client socket, then the connection. Defined in
/// tls_connection.cpp.
void open_tls_client(boost::asio::ip::tcp::socket socket, serial_executor ex, std::string remote,
                     gateway_context& ctx);

} // namespace nanocaf::detail
