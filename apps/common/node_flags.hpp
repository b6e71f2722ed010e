// The operations flags of the test node (tests/cluster_node.cpp), which is not a
// nanocaf::server: logging and metrics, spelled as the server spells them.
#pragma once

#include <memory>
#include <string>

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

} // namespace nanocaf::apps
