// Latencies in microseconds, in log-linear buckets (32 per power of two: under 3 % error),
// from 1 us to about an hour; percentiles without keeping samples.
#pragma once

#include <array>
#include <cstdint>

namespace nanocaf::bench {

class latency_histogram {
public:
  void record(std::uint64_t us) {
    ++counts_[index(us)];
    ++total_;
    if (us > max_)
      max_ = us;
  }
  void merge(const latency_histogram& other) {
    for (std::size_t i = 0; i < counts_.size(); ++i)
      counts_[i] += other.counts_[i];
    total_ += other.total_;
    if (other.max_ > max_)
      max_ = other.max_;
  }
  std::uint64_t count() const { return total_; }
  std::uint64_t max() const { return max_; }
  /// The value under which a fraction `q` (0..1) of the samples fall.
  std::uint64_t percentile(double q) const {
    if (total_ == 0)
      return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank)
        return upper(i);
    }
    return max_;
  }

private:
  static constexpr int sub_bits = 5; // 32 sub-buckets per power of two
  static std::size_t index(std::uint64_t v) {
    if (v < (1u << sub_bits))
      return static_cast<std::size_t>(v);
    int msb = 63 - __builtin_clzll(v);
    auto shift = msb - sub_bits;
    auto sub = (v >> shift) & ((1u << sub_bits) - 1);
    auto i = static_cast<std::size_t>((shift + 1) << sub_bits) + sub;
    return i < 1024 ? i : 1023;
  }
  static std::uint64_t upper(std::size_t i) {
    if (i < (1u << sub_bits))
      return i;
    auto shift = (i >> sub_bits) - 1;
    auto sub = i & ((1u << sub_bits) - 1);
    return ((std::uint64_t{1} << sub_bits) + sub + 1) << shift;
  }

  std::array<std::uint64_t, 1024> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

} // namespace nanocaf::bench
