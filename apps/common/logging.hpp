// Sets the log level from the --log-level flag every app has.
#pragma once

#include <iostream>

#include <nanocaf/log.hpp>

#include "flags.hpp"

namespace nanocaf::apps {

/// false (after a message) when --log-level is not a known level.
inline bool init_logging(const flags& f) {
  log::level level;
  if (!log::parse_level(f.get("log-level"), level)) {
    std::cerr << "bad --log-level: " << f.get("log-level") << "\n";
    return false;
  }
  log::set_level(level);
  return true;
}

} // namespace nanocaf::apps
