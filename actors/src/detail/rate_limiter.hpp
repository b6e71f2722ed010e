// A token bucket per session: `rate` packets per second on average, bursts up to `burst`.
// Used on the connection's Asio strand only, so it needs no atomics.
#pragma once

#include <chrono>
#include <cstddef>

namespace nanocaf::detail {

class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  rate_limiter(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  bool enabled() const noexcept { return rate_ > 0; }

  /// Takes `n` tokens; false when the bucket cannot cover them (the client is over its rate).
  bool take(std::size_t n, clock::time_point now) noexcept {
    if (!enabled())
      return true;
    if (last_ != clock::time_point{}) {
      tokens_ += std::chrono::duration<double>(now - last_).count() * rate_;
      if (tokens_ > burst_)
        tokens_ = burst_;
    }
    last_ = now;
    tokens_ -= static_cast<double>(n);
    return tokens_ >= 0;
  }

private:
  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_{};
};

} // namespace nanocaf::detail
