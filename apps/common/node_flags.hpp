// The flags every node app shares, and the options they make: logging and metrics (ops),
// the runtime, and the client gateway. One declaration per option, so that every app (and its
// --config file) spells an option the same way.
#pragma once

#include <memory>
#include <string>

#include <nanocaf/gateway/gateway.hpp>
#include <nanocaf/gateway/metrics_endpoint.hpp>
#include <nanocaf/runtime.hpp>

#include "flags.hpp"

namespace nanocaf::apps {

/// --log-level, --log-file, --metrics.
void add_ops_flags(flags& f, const std::string& log_level_default = "info");
/// Configures logging from the ops flags; false (after a message) when they are bad.
bool init_logging(const flags& f);
/// Serves `rt`'s metrics when --metrics is set (throws when its address cannot be bound);
/// returns nullptr otherwise.
std::unique_ptr<metrics_endpoint> start_metrics(const flags& f, runtime& rt);

/// --heartbeat, --handshake-timeout, --serializer, --node-id, --threads, --scheduler,
/// --max-inflight, --error-replies.
void add_runtime_flags(flags& f, const std::string& threads_default = "0");
runtime_options runtime_options_from(const flags& f);

struct gateway_defaults {
  std::string tcp;
  std::string ws;
};
/// --tcp, --ws, --path, --origins, --io-threads, --write-queue, --max-packet, --max-ws-message,
/// --http-timeout, --max-connections.
void add_gateway_flags(flags& f, const gateway_defaults& defaults);
gateway_options gateway_options_from(const flags& f);

} // namespace nanocaf::apps
