// The gateway's metrics, one set per transport, looked up once when the gateway is built.
#pragma once

#include "nanocaf/metrics.hpp"

namespace nanocaf::detail {

struct transport_metrics {
  transport_metrics(metrics::registry& r, const std::string& transport);

  metrics::gauge& open;
  metrics::counter& accepted;
  metrics::counter& refused;
  metrics::counter& bytes_in;
  metrics::counter& bytes_out;
  metrics::counter& writes;
  metrics::counter& write_queue_closes;
};

struct gateway_metrics {
  explicit gateway_metrics(metrics::registry& r) : tcp(r, "tcp"), ws(r, "ws") {}
  transport_metrics tcp;
  transport_metrics ws;
};

} // namespace nanocaf::detail
