#include "detail/gateway_metrics.hpp"

namespace nanocaf::detail {

transport_metrics::transport_metrics(metrics::registry& r, const std::string& transport)
  : open(r.gauges("nanocaf_connections", "Client connections open.", {"transport"})
           .with({transport})),
    accepted(r.counters("nanocaf_connections_accepted_total",
                        "Client connections accepted (WebSocket: upgraded).", {"transport"})
               .with({transport})),
    refused(r.counters("nanocaf_connections_refused_total",
                       "Client connections closed at once: the connection limit was reached.",
                       {"transport"})
              .with({transport})),
    bytes_in(r.counters("nanocaf_received_bytes_total", "Bytes of packets received from clients.",
                        {"transport"})
               .with({transport})),
    bytes_out(r.counters("nanocaf_sent_bytes_total", "Bytes of packets written to clients.",
                         {"transport"})
                .with({transport})),
    writes(r.counters("nanocaf_socket_writes_total",
                      "Writes to client sockets: each a system call or one asynchronous write of "
                      "everything queued.",
                      {"transport"})
             .with({transport})),
    write_queue_closes(
      r.counters("nanocaf_write_queue_closes_total",
                 "Connections closed because the client stopped reading (write queue full).",
                 {"transport"})
        .with({transport})) {}

} // namespace nanocaf::detail
