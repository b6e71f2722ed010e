// libFuzzer target for our WebSocket framing (gateway/src/ws_framing.cpp). Besides "no crash",
// it checks that the way bytes are cut into reads changes nothing: the input fed at once and fed
// in chunks (sizes taken from its first byte) must give the same payload, replies and verdict.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "detail/ws_framing.hpp"

using nanocaf::detail::ws_framing;

namespace {

struct result {
  std::string data, replies;
  bool closing = false;
  std::string reason;
};

result run(const std::string& input, std::size_t chunk) {
  ws_framing framing{64 * 1024};
  result r;
  std::string bytes = input; // unmasked in place
  for (std::size_t at = 0; at < bytes.size() && !r.closing; at += chunk) {
    ws_framing::output out;
    auto n = std::min(chunk, bytes.size() - at);
    framing.feed(bytes.data() + at, n, out);
    for (auto d : out.data) {
      if (d.data() < bytes.data() + at || d.data() + d.size() > bytes.data() + at + n)
        std::abort(); // a payload view must point into the bytes just fed
      r.data.append(d);
    }
    r.replies += out.replies;
    r.closing = out.closing;
    r.reason = out.reason;
  }
  return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  std::size_t chunk = 1 + data[0] % 17;
  std::string input{reinterpret_cast<const char*>(data + 1), size - 1};
  auto whole = run(input, input.size() + 1);
  auto cut = run(input, chunk);
  if (whole.data != cut.data || whole.replies != cut.replies || whole.closing != cut.closing
      || whole.reason != cut.reason)
    std::abort();
  if (whole.data.size() > input.size())
    std::abort();
  return 0;
}
