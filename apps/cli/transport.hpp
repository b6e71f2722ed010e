// The client side of a nanocaf (or nano, or pomelo) connection for nanocaf-cli: raw TCP or a
// WebSocket, connected synchronously, then read and written on one io_context thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

namespace nanocaf::cli {

struct tls_settings {
  std::string ca;        // PEM file of CAs to trust; empty: the system's
  bool insecure = false; // no certificate check at all (self-signed test servers)
};

class transport {
public:
  using bytes_handler = std::function<void(std::string_view)>;
  using closed_handler = std::function<void(const std::string& why)>;

  /// `url` is tcp://host:port, ws://host:port/path, or their TLS forms tls:// and wss://.
  /// Blocks until connected (and upgraded); throws std::runtime_error with a readable reason
  /// otherwise.
  static std::shared_ptr<transport> connect(boost::asio::io_context& ioc, const std::string& url,
                                            std::chrono::milliseconds timeout,
                                            const tls_settings& tls = {});
  virtual ~transport() = default;

  /// Starts reading; handlers run on the io_context thread.
  virtual void start(bytes_handler on_bytes, closed_handler on_closed) = 0;
  /// Queues bytes (one packet); call on the io_context thread.
  virtual void write(std::string bytes) = 0;
  /// Closes after what is queued has been written; call on the io_context thread.
  virtual void close() = 0;

  /// Keeps `resource` alive as long as this transport (a TLS context its stream refers to).
  void keep(std::shared_ptr<void> resource) { kept_ = std::move(resource); }

private:
  std::shared_ptr<void> kept_;
};

} // namespace nanocaf::cli
