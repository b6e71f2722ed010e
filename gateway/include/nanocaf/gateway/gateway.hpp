// The client edge of a node: TCP and WebSocket listeners, one connection per socket, static
// files next to the WebSocket endpoint. Asio threads only move bytes: they decode packets and
// hand them to the connection's session actor, and write what sessions queue.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "nanocaf/runtime.hpp"

namespace nanocaf {

struct gateway_options {
  /// "host:port" for raw TCP clients; empty: no TCP listener. Port 0 picks a free port.
  std::string tcp_address;
  /// "host:port" for WebSocket clients and static files; empty: no WebSocket listener.
  std::string ws_address;
  /// The WebSocket upgrade is accepted on this path only.
  std::string ws_path = "/nano";
  /// Gets the Origin header (empty when absent); false refuses the upgrade with 403.
  /// Default: every origin is allowed (as nano's default).
  std::function<bool(std::string_view origin)> check_origin;
  /// Files under this folder are served over HTTP at `static_prefix` on the WebSocket port.
  std::string static_dir;
  std::string static_prefix = "/web/";
  /// Only regular files inside the folder's real path are served (a symlink leading out of it,
  /// a FIFO or a device gets 404), streamed in small reads, and none larger than this.
  std::uint64_t max_static_file = 64u << 20;
  /// Bytes a connection may have queued for writing; a peer that stops reading is closed
  /// when it is exceeded, so memory never grows without limit.
  std::size_t write_queue_limit = 4u << 20;
  /// Largest packet body accepted from a client (nano: 64 KiB).
  std::size_t max_packet_body = 65536;
  /// Largest WebSocket message accepted from a client (0: no limit); a longer one closes the
  /// connection with 1009.
  std::size_t max_ws_message = 1u << 20;
  /// Time allowed for an HTTP request or WebSocket upgrade to arrive (slowloris guard).
  std::chrono::milliseconds http_timeout = std::chrono::seconds(10);
  /// Open connections beyond this are closed at once (0: no limit).
  std::size_t max_connections = 0;
  /// Asio threads (they never run user code). With one, plain TCP and WebSocket clients are
  /// watched in an epoll set of the gateway's own (one recv and one send per request, every
  /// ready client served once per turn); with more, each waits on its Asio socket.
  std::size_t io_threads = 1;
  /// TLS for clients, PEM files: when both are set the TCP listener speaks TLS and the
  /// WebSocket port speaks HTTPS and WSS. The TLS handshake must finish within http_timeout.
  std::string tls_cert;
  std::string tls_key;
};

class gateway {
public:
  gateway(runtime& rt, gateway_options options);
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// Binds the listeners and starts the Asio threads; throws std::runtime_error when an
  /// address cannot be bound or the TLS files cannot be used.
  void start();
  /// Stops accepting, kicks every client with `reason`, waits briefly for the kicks to be
  /// written, and joins the Asio threads. Idempotent. Call it from a thread of your own (as
  /// the apps do from main), not from a handler or actor: under the "io" policy those run on
  /// the Asio thread it joins, and it throws std::logic_error there without stopping anything.
  void stop(const std::string& reason = "server shutdown");

  /// Bound ports (useful with port 0); 0 when the listener is off.
  std::uint16_t tcp_port() const noexcept;
  std::uint16_t ws_port() const noexcept;
  std::size_t connections() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Splits "host:port" ("[::1]:80", ":3250" = all interfaces); throws std::invalid_argument.
std::pair<std::string, std::uint16_t> split_host_port(const std::string& address);

} // namespace nanocaf
