// The client's side of our WebSocket framing (the codec's masked frames, nanocaf-bench's reader
// in apps/bench/client/ws_client_frames.cpp) against the gateway's side: what a client masks,
// the gateway's framing unmasks; what the gateway frames, the reader reads, however the bytes
// are cut.
#include <gtest/gtest.h>

#include <random>

#include "../apps/bench/client/ws_client_frames.hpp"
#include "detail/ws_framing.hpp"
#include "nanocaf/codec/websocket.hpp"

using nanocaf::codec::append_masked_websocket_frame;
using nanocaf::bench::ws_frame_reader;
using nanocaf::detail::ws_framing;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng{seed};
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng());
  return s;
}

// One payload of each length encoding (7 bits, 16 bits, 64 bits).
const std::string small = "hello", medium = random_bytes(300, 1), large = random_bytes(70000, 2);

} // namespace

TEST(WsClientFrames, TheGatewayUnmasksWhatTheClientMasks) {
  std::string stream;
  std::uint32_t mask = 0x9E3779B9;
  for (auto* p : {&small, &medium, &large})
    append_masked_websocket_frame(0x2, *p, mask++, stream);
  ws_framing framing{1 << 20};
  ws_framing::output out;
  framing.feed(stream.data(), stream.size(), out);
  std::string data;
  for (auto d : out.data)
    data.append(d);
  EXPECT_EQ(data, small + medium + large);
  EXPECT_FALSE(out.closing) << out.reason;
  EXPECT_TRUE(out.replies.empty());
}

TEST(WsClientFrames, TheClientReadsTheGatewaysFramesCutAtEveryByte) {
  std::string stream;
  nanocaf::codec::append_websocket_frame(0x2, small, stream);
  nanocaf::codec::append_websocket_frame(0x9, "ping?", stream);
  nanocaf::codec::append_websocket_frame(0x2, medium, stream);
  nanocaf::codec::append_websocket_frame(0x2, large, stream);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{9},
                            std::size_t{4096}, stream.size()}) {
    ws_frame_reader reader;
    std::string data;
    std::vector<std::string> pings;
    for (std::size_t at = 0; at < stream.size(); at += chunk)
      ASSERT_EQ(reader.feed(std::string_view{stream}.substr(at, chunk), data, pings),
                ws_frame_reader::result::ok)
        << "chunk " << chunk << " at " << at;
    EXPECT_EQ(data, small + medium + large) << "chunk " << chunk;
    EXPECT_EQ(pings, std::vector<std::string>{"ping?"}) << "chunk " << chunk;
  }
}

TEST(WsClientFrames, CloseMaskedAndUnknownFramesEndTheRead) {
  std::string data;
  std::vector<std::string> pings;
  std::string close;
  nanocaf::codec::append_websocket_frame(0x8, "\x03\xe8", close);
  EXPECT_EQ(ws_frame_reader{}.feed(close, data, pings), ws_frame_reader::result::closed);
  std::string masked;
  append_masked_websocket_frame(0x2, "x", 1, masked); // a server must not mask
  EXPECT_EQ(ws_frame_reader{}.feed(masked, data, pings), ws_frame_reader::result::bad);
  std::string unknown;
  nanocaf::codec::append_websocket_frame(0x3, "?", unknown);
  EXPECT_EQ(ws_frame_reader{}.feed(unknown, data, pings), ws_frame_reader::result::bad);
  const std::string oversized{"\x82\x7f\x00\x00\x00\x00\x10\x00\x00\x00", 10}; // 256 MiB
  EXPECT_EQ(ws_frame_reader{}.feed(oversized, data, pings), ws_frame_reader::result::bad);
  EXPECT_TRUE(data.empty());
}
