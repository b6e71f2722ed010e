// A small thread-safe logger to stderr (Debian's CAF is built with its logging compiled out).
// One line per event; nothing per message at the default level.
#pragma once

#include <sstream>
#include <string>

namespace nanocaf::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

void set_level(level l) noexcept;
level current_level() noexcept;
/// Parses "debug", "info", "warn", "error" or "off"; false when unknown.
bool parse_level(const std::string& text, level& out) noexcept;
void write(level l, const std::string& line);

template <class... Ts>
void emit(level l, const Ts&... xs) {
  if (l < current_level())
    return;
  std::ostringstream os;
  (os << ... << xs);
  write(l, os.str());
}

template <class... Ts> void debug(const Ts&... xs) { emit(level::debug, xs...); }
template <class... Ts> void info(const Ts&... xs) { emit(level::info, xs...); }
template <class... Ts> void warn(const Ts&... xs) { emit(level::warn, xs...); }
template <class... Ts> void error(const Ts&... xs) { emit(level::error, xs...); }

} // namespace nanocaf::log
