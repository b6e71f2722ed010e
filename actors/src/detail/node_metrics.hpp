// The runtime's own metrics, looked up once so that the hot path only adds to atomics.
#pragma once

#include <deque>
#include <string>

#include "nanocaf/metrics.hpp"

namespace nanocaf::detail {

/// Per route: counted where a message is dispatched, timed where its handler returns.
struct route_metrics {
  metrics::counter& requests;
  metrics::counter& notifies;
  metrics::histogram& seconds; // from dispatch to the handler's return (queueing included)
};

struct node_metrics {
  explicit node_metrics(metrics::registry& r);

  /// Metrics for a route this node handles; the reference stays valid.
  route_metrics& route(const std::string& name);
  void error_reply(int code);

  metrics::registry& registry;
  metrics::gauge& sessions;
  metrics::counter& handshakes;
  metrics::counter& handshakes_refused;
  metrics::counter& handshake_timeouts;
  metrics::counter& heartbeat_timeouts;
  metrics::counter& protocol_errors;
  metrics::counter& kicks;
  metrics::counter& overloaded_closes;
  metrics::counter& rate_limited;
  metrics::counter& unknown_routes;

private:
  metrics::family<metrics::counter>& requests_;
  metrics::family<metrics::counter>& notifies_;
  metrics::family<metrics::histogram>& seconds_;
  metrics::family<metrics::counter>& error_replies_;
  std::deque<route_metrics> routes_;
};

} // namespace nanocaf::detail
