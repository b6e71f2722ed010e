// Logging through spdlog (Debian's; CAF's own logging is compiled out there). The interface
// stays small and stream-like so that headers do not pull spdlog or fmt in: one line per
// event, nothing per message at the default level (info).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

namespace nanocaf::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

struct settings {
  level threshold = level::info;
  /// Empty: stderr. Otherwise a file, rotated at `max_file_bytes` keeping `max_files` old ones.
  std::string file;
  std::size_t max_file_bytes = 64u << 20;
  std::size_t max_files = 4;
};

/// Replaces the sink and level; throws std::runtime_error when the file cannot be opened.
void configure(const settings& s);
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

/// Lines from one place that an attacker can cause (a refused connection each) go through a
/// throttle: at most one a `period`; the next line that passes says how many were left out.
/// Thread-safe.
class throttle {
public:
  explicit throttle(std::chrono::milliseconds period = std::chrono::seconds(1)) noexcept
    : period_ms_(period.count()) {}
  /// True when a line may be written now; `skipped` is then how many were not since the last.
  bool allow(std::uint64_t& skipped) noexcept;

private:
  std::int64_t period_ms_;
  std::atomic<std::int64_t> next_ms_{0};
  std::atomic<std::uint64_t> skipped_{0};
};

template <class... Ts> void debug(const Ts&... xs) { emit(level::debug, xs...); }
template <class... Ts> void info(const Ts&... xs) { emit(level::info, xs...); }
template <class... Ts> void warn(const Ts&... xs) { emit(level::warn, xs...); }
template <class... Ts> void error(const Ts&... xs) { emit(level::error, xs...); }

} // namespace nanocaf::log
