#include "node_flags.hpp"

#include <iostream>

#include <nanocaf/log.hpp>

namespace nanocaf::apps {

void add_ops_flags(flags& f, const std::string& log_level_default) {
  f.add("log-level", log_level_default, "debug, info, warn, error or off")
    .add("log-file", "", "log to this file, rotated at 64 MiB (empty: stderr)")
    .add("metrics", "", "serve Prometheus metrics at http://ADDRESS/metrics (host:port; empty: off)");
}

bool init_logging(const flags& f) {
  log::settings s;
  if (!log::parse_level(f.get("log-level"), s.threshold)) {
    std::cerr << "bad --log-level: " << f.get("log-level") << "\n";
    return false;
  }
  s.file = f.get("log-file");
  try {
    log::configure(s);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return false;
  }
  return true;
}

std::unique_ptr<metrics_endpoint> start_metrics(const flags& f, runtime& rt) {
  if (f.get("metrics").empty())
    return nullptr;
  auto endpoint = std::make_unique<metrics_endpoint>(rt.metrics(), f.get("metrics"));
  endpoint->start();
  return endpoint;
}

} // namespace nanocaf::apps
