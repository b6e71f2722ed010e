#include "detail/node_context.hpp"

#include <nlohmann/json.hpp>

namespace nanocaf::detail {

namespace {
// Session ids: 10 bits of node id above 42 bits of sequence. 52 bits in all, so JavaScript
// numbers hold them exactly, and ids of different gates never collide.
constexpr int seq_bits = 42;
constexpr std::uint64_t seq_mask = (std::uint64_t{1} << seq_bits) - 1;

// Seconds as Go's encoding/json writes a float64: "30" for 30 s, "1.5" for 1500 ms.
std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000);
  auto text = std::to_string(ms / 1000) + "." + std::to_string(1000 + ms % 1000).substr(1);
  while (text.back() == '0')
    text.pop_back();
  return text;
}
} // namespace

std::uint64_t node_context::first_session_seq() noexcept {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::system_clock::now().time_since_epoch()).count();
  return (static_cast<std::uint64_t>(us) & seq_mask) | 1; // never 0
}

std::int64_t node_context::next_session_id() noexcept {
  auto seq = next_session_seq.fetch_add(1, std::memory_order_relaxed) & seq_mask;
  if (seq == 0) // after wrapping: 0 means "no session" to nano peers
    seq = next_session_seq.fetch_add(1, std::memory_order_relaxed) & seq_mask;
  return static_cast<std::int64_t>((std::uint64_t{node_id} << seq_bits) | seq);
}

std::string handshake_response_json(const runtime_options& options, std::int64_t server_time) {
  // Keys in Go's sorted order (dict < heartbeat < servertime) so bytes compare equal to nano's.
  std::string sys = "{";
  if (!options.dictionary.empty()) {
    nlohmann::json dict = nlohmann::json::object();
    for (auto& [route, code] : options.dictionary.entries())
      dict[route] = code;
    sys += "\"dict\":" + dict.dump() + ",";
  }
  sys += "\"heartbeat\":" + seconds_text(options.heartbeat);
  sys += ",\"servertime\":" + std::to_string(server_time) + "}";
  return "{\"code\":200,\"sys\":" + sys + "}";
}

} // namespace nanocaf::detail
