// Serves a metrics registry over HTTP at /metrics, in the Prometheus text format, on its own
// address and its own thread (a scrape never waits behind client traffic, and the port can be
// kept off the public interface).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "nanocaf/metrics.hpp"

namespace nanocaf {

class metrics_endpoint {
public:
  /// `address` is "host:port" (port 0 picks a free one). The registry must outlive this.
  metrics_endpoint(metrics::registry& registry, std::string address);
  ~metrics_endpoint();
  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;

  /// Binds and starts serving; throws std::runtime_error when the address cannot be bound.
  void start();
  /// Stops serving and joins the thread. Idempotent.
  void stop();
  std::uint16_t port() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace nanocaf
