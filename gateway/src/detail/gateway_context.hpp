// What the listeners and HTTP sessions of one gateway share.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "detail/connection.hpp"
#include "detail/connection_outlet.hpp"
#include "nanocaf/gateway/gateway.hpp"

namespace nanocaf::detail {

struct gateway_context {
  gateway_context(runtime& r, gateway_options o)
    : rt(r), options(std::move(o)), stats(r.metrics()) {
    limits.write_queue = options.write_queue_limit;
    limits.max_packet_body = options.max_packet_body;
  }

  /// Registers a new client connection and starts it, or closes it when the node is full.
  void open(const std::shared_ptr<connection>& c);

  runtime& rt;
  const gateway_options options;
  connection::limits limits;
  gateway_metrics stats;
  connection_registry registry;
  std::shared_ptr<gateway_liveness> live = std::make_shared<gateway_liveness>();
  boost::asio::io_context ioc;
};

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep);

/// Reads HTTP requests on a freshly accepted WebSocket-port socket: upgrades on the WebSocket
/// path, serves static files, answers 404 otherwise. Defined in http_session.cpp.
void serve_http(boost::asio::ip::tcp::socket socket, strand ex, gateway_context& ctx);

} // namespace nanocaf::detail
