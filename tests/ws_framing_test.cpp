// Our WebSocket framing (gateway/src/ws_framing.cpp) on its own: client frames as RFC 6455
// spells them, cut at every byte, and each way a client can break the protocol.
#include <gtest/gtest.h>

#include <random>

#include "detail/ws_framing.hpp"

using nanocaf::detail::ws_framing;

namespace {

// A client frame: masked with `mask`, FIN as given.
std::string client_frame(std::uint8_t opcode, const std::string& payload, bool fin = true,
                         bool masked = true, std::uint8_t rsv = 0) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | rsv | opcode));
  auto n = payload.size();
  char m = masked ? static_cast<char>(0x80) : 0;
  if (n < 126) {
    f.push_back(static_cast<char>(m | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(m | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(m | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      f.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
  }
  const char mask[4] = {'\x12', '\x34', '\x56', '\x78'};
  if (masked)
    f.append(mask, 4);
  for (std::size_t i = 0; i < n; ++i)
    f.push_back(masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i]);
  return f;
}

struct fed {
  std::string data;    // all data payload bytes, joined
  std::string replies; // all frames to send back
  bool closing = false;
  std::string reason;
};

// Feeds `bytes` in pieces of `chunk` bytes (0: all at once).
fed feed(const std::string& bytes, std::size_t chunk = 0, std::uint64_t max = 1 << 20) {
  ws_framing framing{max};
  fed result;
  std::string copy = bytes; // unmasked in place
  std::size_t step = chunk == 0 ? copy.size() : chunk;
  for (std::size_t at = 0; at < copy.size() && !result.closing; at += step) {
    ws_framing::output out;
    framing.feed(copy.data() + at, std::min(step, copy.size() - at), out);
    for (auto d : out.data)
      result.data.append(d);
    result.replies += out.replies;
    result.closing = out.closing;
    result.reason = out.reason;
  }
  return result;
}

std::string close_payload_code(const std::string& reply) {
  // A server close frame: 0x88, length, then the code.
  return reply.substr(2, 2);
}

} // namespace

TEST(WsFraming, PayloadsOfEveryLengthEncodingCutAtEveryByte) {
  std::string small = "hello", medium(300, 'm'), large(70000, 'L');
  std::mt19937 rng{7};
  for (auto& c : large)
    c = static_cast<char>(rng());
  auto stream = client_frame(ws_framing::op_binary, small)
              + client_frame(ws_framing::op_binary, medium)
              + client_frame(ws_framing::op_binary, large);
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3},
                            std::size_t{7}, std::size_t{13}, std::size_t{4096}}) {
    auto r = feed(stream, chunk);
    EXPECT_EQ(r.data, small + medium + large) << "chunk " << chunk;
    EXPECT_FALSE(r.closing);
    EXPECT_TRUE(r.replies.empty());
  }
}

TEST(WsFraming, FragmentsWithAPingBetweenThem) {
  // RFC 6455 5.4: control frames may come between the fragments of a message.
  auto stream = client_frame(ws_framing::op_binary, "frag", false)
              + client_frame(ws_framing::op_ping, "are you there")
              + client_frame(ws_framing::op_continuation, "mented", false)
              + client_frame(ws_framing::op_continuation, "", true)
              + client_frame(ws_framing::op_text, "text too");
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{5}}) {
    auto r = feed(stream, chunk);
    EXPECT_EQ(r.data, "fragmentedtext too");
    EXPECT_EQ(r.replies, ws_framing::frame(ws_framing::op_pong, "are you there"));
    EXPECT_FALSE(r.closing);
  }
}

TEST(WsFraming, CloseIsAnsweredWithTheSameCode) {
  auto r = feed(client_frame(ws_framing::op_binary, "last") + client_frame(ws_framing::op_close, "\x03\xe9" "bye")
                + client_frame(ws_framing::op_binary, "after close"));
  EXPECT_EQ(r.data, "last"); // nothing after the close frame is read
  EXPECT_TRUE(r.closing);
  EXPECT_EQ(r.reason, "peer closed");
  EXPECT_EQ(r.replies, ws_framing::close_frame(1001));
  // An empty close is answered with 1000; a code no endpoint may send, or a one-byte payload,
  // with 1002.
  auto empty = feed(client_frame(ws_framing::op_close, ""));
  EXPECT_EQ(empty.replies, ws_framing::close_frame(1000));
  for (std::string bad : {std::string("\x03\xed", 2), std::string("\x03\xe7", 2), std::string("\x03")}) {
    auto r = feed(client_frame(ws_framing::op_close, bad));
    EXPECT_TRUE(r.closing);
    EXPECT_EQ(r.replies, ws_framing::close_frame(1002));
  }
}

TEST(WsFraming, ProtocolErrorsCloseWith1002) {
  struct bad {
    std::string bytes;
    const char* why;
  };
  std::vector<bad> cases{
    {client_frame(ws_framing::op_binary, "x", true, false), "unmasked"},
    {client_frame(ws_framing::op_binary, "x", true, true, 0x40), "reserved bits"},
    {client_frame(0x3, "x"), "unknown opcode"},
    {client_frame(ws_framing::op_continuation, "x"), "continuation frame outside"},
    {client_frame(ws_framing::op_binary, "a", false) + client_frame(ws_framing::op_binary, "b"),
     "new message inside"},
    {client_frame(ws_framing::op_ping, std::string(126, 'p')), "long control frame"},
    {client_frame(ws_framing::op_ping, "p", false), "fragmented or long control"},
  };
  for (auto& c : cases) {
    auto r = feed(c.bytes);
    EXPECT_TRUE(r.closing) << c.why;
    EXPECT_NE(r.reason.find(c.why), std::string::npos) << r.reason;
    EXPECT_EQ(close_payload_code(r.replies), std::string("\x03\xea", 2)) << c.why; // 1002
  }
  // A 64-bit length with its top bit set.
  std::string huge{"\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 14};
  auto r = feed(huge);
  EXPECT_TRUE(r.closing);
  EXPECT_NE(r.reason.find("out of range"), std::string::npos);
}

TEST(WsFraming, MessageOverTheLimitClosesWith1009EvenAcrossFragments) {
  auto r = feed(client_frame(ws_framing::op_binary, std::string(600, 'a'), false)
                  + client_frame(ws_framing::op_continuation, std::string(600, 'b')),
                0, 1000);
  EXPECT_TRUE(r.closing);
  EXPECT_EQ(close_payload_code(r.replies), std::string("\x03\xf1", 2)); // 1009
  EXPECT_EQ(r.data, std::string(600, 'a')); // what came before the limit was passed on
}

TEST(WsFraming, ZeroMeansNoMessageLimit) {
  auto r = feed(client_frame(ws_framing::op_binary, std::string(70000, 'z')), 4096, 0);
  EXPECT_FALSE(r.closing);
  EXPECT_EQ(r.data.size(), 70000u);
}

TEST(WsFraming, ServerFramesUseTheShortestLength) {
  EXPECT_EQ(ws_framing::frame(ws_framing::op_binary, "ab"), std::string("\x82\x02" "ab"));
  auto medium = ws_framing::frame(ws_framing::op_binary, std::string(300, 'x'));
  EXPECT_EQ(medium.substr(0, 4), std::string("\x82\x7e\x01\x2c", 4));
  auto large = ws_framing::frame(ws_framing::op_binary, std::string(70000, 'x'));
  EXPECT_EQ(large.substr(0, 10), std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
  EXPECT_EQ(large.size(), 70010u);
}
