#include "nanocaf/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace nanocaf::log {

namespace {
std::atomic<level> g_level{level::info};
std::mutex g_mu;
const char* names[] = {"debug", "info", "warn", "error", "off"};
} // namespace

void set_level(level l) noexcept { g_level = l; }
level current_level() noexcept { return g_level; }

bool parse_level(const std::string& text, level& out) noexcept {
  for (int i = 0; i <= static_cast<int>(level::off); ++i)
    if (text == names[i]) {
      out = static_cast<level>(i);
      return true;
    }
  return false;
}

void write(level l, const std::string& line) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
  std::lock_guard<std::mutex> guard{g_mu};
  std::fprintf(stderr, "%s.%03d %-5s %s\n", stamp, static_cast<int>(ms.count()),
               names[static_cast<int>(l)], line.c_str());
}

} // namespace nanocaf::log
