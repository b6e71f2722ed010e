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

class transport {
public:
  using bytes_handler = std::function<void(std::string_view)>;
  using closed_handler = std::function<void(const std::string& why)>;

  /// `url` is tcp://host:port or ws://host:port/path. Blocks until connected (and upgraded);
  /// throws std::runtime_error with a readable reason otherwise.
  static std::shared_ptr<transport> connect(boost::asio::io_context& ioc, const std::string& url,
                                            std::chrono::milliseconds timeout);
  virtual ~transport() = default;

  /// Starts reading; handlers run on the io_context thread.
  virtual void start(bytes_handler on_bytes, closed_handler on_closed) = 0;
  /// Queues bytes (one packet); call on the io_context thread.
  virtual void write(std::string bytes) = 0;
  /// Closes after what is queued has been written; call on the io_context thread.
  virtual void close() = 0;
};

} // namespace nanocaf::cli
