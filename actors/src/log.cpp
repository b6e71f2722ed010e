#include "nanocaf/log.hpp"

#include <atomic>
#include <memory>
#include <mutex>

#include <spdlog/logger.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace nanocaf::log {

namespace {

const char* names[] = {"debug", "info", "warn", "error", "off"};
const spdlog::level::level_enum spdlog_levels[] = {spdlog::level::debug, spdlog::level::info,
                                                   spdlog::level::warn, spdlog::level::err,
                                                   spdlog::level::off};

// Our own logger, not spdlog's default registry: an application's use of spdlog is its own.
std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr sink) {
  auto logger = std::make_shared<spdlog::logger>("nanocaf", std::move(sink));
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %-7l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::trace); // the threshold is ours, checked before formatting
  logger->flush_on(spdlog::level::trace);  // one line per event: keep logs current
  return logger;
}

std::atomic<level> g_level{level::info};
std::mutex g_mu; // guards g_logger's replacement, not its use (spdlog sinks lock themselves)
std::shared_ptr<spdlog::logger> g_logger =
  make_logger(std::make_shared<spdlog::sinks::stderr_sink_mt>());

std::shared_ptr<spdlog::logger> current_logger() {
  std::lock_guard<std::mutex> guard{g_mu};
  return g_logger;
}

} // namespace

void configure(const settings& s) {
  spdlog::sink_ptr sink;
  if (s.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(s.file, s.max_file_bytes,
                                                                    s.max_files);
    } catch (const spdlog::spdlog_ex& e) {
      throw std::runtime_error(std::string{"log file: "} + e.what());
    }
  }
  auto logger = make_logger(std::move(sink));
  {
    std::lock_guard<std::mutex> guard{g_mu};
    g_logger = std::move(logger);
  }
  set_level(s.threshold);
}

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
  current_logger()->log(spdlog_levels[static_cast<int>(l)],
                        spdlog::string_view_t{line.data(), line.size()});
}

bool throttle::allow(std::uint64_t& skipped) noexcept {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
               .count();
  auto next = next_ms_.load(std::memory_order_relaxed);
  if (now < next || !next_ms_.compare_exchange_strong(next, now + period_ms_)) {
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  skipped = skipped_.exchange(0, std::memory_order_relaxed);
  return true;
}

} // namespace nanocaf::log
