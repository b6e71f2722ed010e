// libFuzzer target for the wire codec: the stream decoder (fed in chunks whose sizes come from
// the input) and the message decoder on every packet body. Besides "no crash", it checks that
// whatever decodes re-encodes to a message that decodes to the same fields.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "nanocaf/codec/message.hpp"
#include "nanocaf/codec/packet.hpp"

using namespace nanocaf::codec;

namespace {

const route_dictionary& dict() {
  static const route_dictionary d{{"room.join", 1}, {"room.message", 2}, {"onMessage", 3},
                                  {"test.test.test", 100}};
  return d;
}

void check_round_trip(const message& m) {
  std::string body;
  if (encode_message(m.type, m.id, m.route, m.payload, &dict(), body) != error::none) {
    if (m.route.size() <= max_route_length)
      std::abort(); // a decoded route always fits
    return;
  }
  message back;
  if (decode_message(body, &dict(), back) != error::none)
    std::abort();
  if (back.type != m.type || back.id != m.id || back.route != m.route || back.payload != m.payload)
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  // The first byte picks the chunk size, so splits across reads are explored too.
  std::size_t chunk = 1 + data[0] % 64;
  std::string_view input{reinterpret_cast<const char*>(data + 1), size - 1};
  stream_decoder decoder;
  std::vector<packet> packets;
  for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
    if (decoder.feed(input.substr(pos, chunk), packets) != error::none)
      break;
  }
  for (auto& p : packets) {
    if (p.body.size() > default_max_packet_body)
      std::abort();
    message m;
    if (decode_message(p.body, &dict(), m) == error::none)
      check_round_trip(m);
  }
  // The whole input as one message body, too.
  message m;
  if (decode_message(input, &dict(), m) == error::none)
    check_round_trip(m);
  return 0;
}
