#include "detail/node_metrics.hpp"

namespace nanocaf::detail {

node_metrics::node_metrics(metrics::registry& r)
  : registry(r),
    sessions(r.gauges("nanocaf_sessions", "Client sessions open on this node.").get()),
    handshakes(r.counters("nanocaf_handshakes_total", "Handshakes answered.").get()),
    handshakes_refused(
      r.counters("nanocaf_handshakes_refused_total", "Handshakes refused by the validator.").get()),
    handshake_timeouts(r.counters("nanocaf_handshake_timeouts_total",
                                  "Connections closed for sending no handshake in time.")
                         .get()),
    heartbeat_timeouts(r.counters("nanocaf_heartbeat_timeouts_total",
                                  "Sessions closed for silence longer than two heartbeats.")
                         .get()),
    protocol_errors(r.counters("nanocaf_protocol_errors_total",
                               "Sessions closed for breaking the protocol (bad message, order).")
                      .get()),
    kicks(r.counters("nanocaf_kicks_total", "Sessions kicked by the server.").get()),
    overloaded_closes(r.counters("nanocaf_overloaded_closes_total",
                                 "Sessions closed for queueing too many bytes for their handlers.")
                        .get()),
    rate_limited(r.counters("nanocaf_rate_limited_total",
                            "Sessions kicked for sending more packets per second than allowed.")
                   .get()),
    unknown_routes(
      r.counters("nanocaf_unknown_routes_total", "Messages for a route no node offers.").get()),
    requests_(r.counters("nanocaf_requests_total", "Requests dispatched to a handler.", {"route"})),
    notifies_(r.counters("nanocaf_notifies_total", "Notifies dispatched to a handler.", {"route"})),
    seconds_(r.histograms("nanocaf_handler_seconds",
                          "Time from dispatch to the handler's return, queueing included.",
                          {"route"})),
    error_replies_(
      r.counters("nanocaf_error_replies_total", "Error replies sent, by code.", {"code"})) {}

route_metrics& node_metrics::route(const std::string& name) {
  routes_.push_back({requests_.with({name}), notifies_.with({name}), seconds_.with({name})});
  return routes_.back();
}

void node_metrics::error_reply(int code) { error_replies_.with({std::to_string(code)}).inc(); }

} // namespace nanocaf::detail
