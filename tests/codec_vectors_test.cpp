// Every byte vector of spec section 1.12, plus the places where we fix nano's bugs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nanocaf/codec/message.hpp"
#include "nanocaf/codec/packet.hpp"
#include "test_bytes.hpp"

using namespace nanocaf::codec;
using nanocaf::test::hex;
using nanocaf::test::unhex;

namespace {

const std::string hw = "hello world";

const route_dictionary& test_dict() {
  static const route_dictionary dict{{"test.test.test", 100},
                                     {"test.test.test1", 101},
                                     {"test.test.test2", 102},
                                     {"test.test.test3", 103}};
  return dict;
}

std::string encode(message_type t, std::uint64_t id, std::string_view route,
                   std::string_view payload, const route_dictionary* dict = &test_dict()) {
  std::string out;
  EXPECT_EQ(encode_message(t, id, route, payload, dict, out), error::none);
  return out;
}

message decode_ok(const std::string& body, const route_dictionary* dict = &test_dict()) {
  message m;
  EXPECT_EQ(decode_message(body, dict, m), error::none) << hex(body);
  return m;
}

error decode_err(const std::string& body) {
  message m;
  return decode_message(body, &test_dict(), m);
}

} // namespace

// ---- packet layer -------------------------------------------------------------------------

TEST(PacketVectors, P1EncodeHandshake) {
  std::string out;
  ASSERT_EQ(encode_packet(packet_type::handshake, hw, out), error::none);
  EXPECT_EQ(hex(out), "0100000b68656c6c6f20776f726c64");
}

TEST(PacketVectors, P2EncodeEmptyBodies) {
  for (auto [type, want] : std::vector<std::pair<packet_type, const char*>>{
         {packet_type::handshake_ack, "02000000"},
         {packet_type::heartbeat, "03000000"},
         {packet_type::data, "04000000"},
         {packet_type::kick, "05000000"}}) {
    std::string out;
    ASSERT_EQ(encode_packet(type, "", out), error::none);
    EXPECT_EQ(hex(out), want);
  }
}

TEST(PacketVectors, P3EncodeWrongType) {
  std::string out;
  EXPECT_EQ(encode_packet(std::uint8_t{0}, "x", out), error::wrong_packet_type);
  EXPECT_EQ(encode_packet(std::uint8_t{6}, "x", out), error::wrong_packet_type);
  EXPECT_TRUE(out.empty());
  EXPECT_STREQ(to_string(error::wrong_packet_type), "wrong packet type");
}

TEST(PacketVectors, P4DecodeHandshake) {
  stream_decoder d;
  std::vector<packet> got;
  ASSERT_EQ(d.feed(unhex("0100000b") + hw, got), error::none);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, packet_type::handshake);
  EXPECT_EQ(got[0].body, hw);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(PacketVectors, P5TrailingEmptyPacketInSameCall) {
  stream_decoder d;
  std::vector<packet> got;
  ASSERT_EQ(d.feed(unhex("0500000b") + hw + unhex("01000000"), got), error::none);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, packet_type::kick);
  EXPECT_EQ(got[0].body, hw);
  EXPECT_EQ(got[1].type, packet_type::handshake);
  EXPECT_TRUE(got[1].body.empty());
}

TEST(PacketVectors, P6SplitAcrossFeeds) {
  stream_decoder d;
  std::vector<packet> got;
  ASSERT_EQ(d.feed(unhex("0400"), got), error::none);
  EXPECT_EQ(got.size(), 0u);
  ASSERT_EQ(d.feed(unhex("000361"), got), error::none);
  EXPECT_EQ(got.size(), 0u);
  ASSERT_EQ(d.feed(unhex("626303000000"), got), error::none);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, packet_type::data);
  EXPECT_EQ(got[0].body, "abc");
  EXPECT_EQ(got[1].type, packet_type::heartbeat);
  EXPECT_TRUE(got[1].body.empty());
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(PacketVectors, P7OversizeRefused) {
  stream_decoder d;
  std::vector<packet> got;
  EXPECT_EQ(d.feed(unhex("04010001"), got), error::packet_size_exceed);
  EXPECT_EQ(got.size(), 0u);
  EXPECT_STREQ(to_string(error::packet_size_exceed), "codec: packet size exceed");
}

TEST(PacketVectors, P8ExactlyMaxWaitsForBody) {
  stream_decoder d;
  std::vector<packet> got;
  EXPECT_EQ(d.feed(unhex("04010000"), got), error::none);
  EXPECT_EQ(got.size(), 0u);
  std::string body(65536, 'z');
  EXPECT_EQ(d.feed(body, got), error::none);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body.size(), 65536u);
}

TEST(PacketVectors, P9DecodeWrongType) {
  stream_decoder d;
  std::vector<packet> got;
  EXPECT_EQ(d.feed(unhex("07000000"), got), error::wrong_packet_type);
  EXPECT_EQ(got.size(), 0u);
}

TEST(PacketVectors, P10LargeBodyHeaderAndLimit) {
  std::string out;
  ASSERT_EQ(encode_packet(packet_type::data, std::string(70000, 'x'), out), error::none);
  EXPECT_EQ(hex(out.substr(0, 4)), "04011170");
  // Our fix: the encoder refuses what the 3-byte field cannot hold instead of wrapping.
  std::string big;
  EXPECT_EQ(encode_packet(packet_type::data, std::string(0x1000000, 'x'), big),
            error::body_too_large);
  EXPECT_TRUE(big.empty());
}

TEST(PacketVectors, PacketsBeforeErrorAreKept) {
  stream_decoder d;
  std::vector<packet> got;
  EXPECT_EQ(d.feed(unhex("03000000") + unhex("09000000"), got), error::wrong_packet_type);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, packet_type::heartbeat);
}

TEST(PacketVectors, ByteByByteFeedMatchesOneShot) {
  std::string stream = unhex("0100000b") + hw + unhex("02000000") + unhex("04000003616263");
  stream_decoder d;
  std::vector<packet> got;
  for (char c : stream)
    ASSERT_EQ(d.feed(std::string_view{&c, 1}, got), error::none);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].body, "abc");
}

// ---- message layer ------------------------------------------------------------------------

TEST(MessageVectors, M1RequestCompressed) {
  auto body = encode(message_type::request, 100, "test.test.test", hw);
  EXPECT_EQ(hex(body), "01640064" + hex(hw));
  auto m = decode_ok(body);
  EXPECT_EQ(m.type, message_type::request);
  EXPECT_EQ(m.id, 100u);
  EXPECT_EQ(m.route, "test.test.test");
  EXPECT_TRUE(m.route_compressed);
  EXPECT_EQ(m.payload, hw);
}

TEST(MessageVectors, M2RequestPlainRoute) {
  auto body = encode(message_type::request, 100, "test.test.test4", hw);
  EXPECT_EQ(hex(body), "00640f746573742e746573742e7465737434" + hex(hw));
  auto m = decode_ok(body);
  EXPECT_EQ(m.route, "test.test.test4");
  EXPECT_FALSE(m.route_compressed);
  EXPECT_EQ(m.payload, hw);
}

TEST(MessageVectors, M3Response) {
  auto body = encode(message_type::response, 100, "", hw);
  EXPECT_EQ(hex(body), "0464" + hex(hw));
  auto m = decode_ok(body);
  EXPECT_EQ(m.type, message_type::response);
  EXPECT_EQ(m.id, 100u);
  EXPECT_EQ(m.payload, hw);
}

TEST(MessageVectors, M4NotifyCompressed) {
  auto body = encode(message_type::notify, 0, "test.test.test", hw);
  EXPECT_EQ(hex(body), "030064" + hex(hw));
  EXPECT_EQ(decode_ok(body).route, "test.test.test");
}

TEST(MessageVectors, M5NotifyPlain) {
  auto body = encode(message_type::notify, 0, "test.test.test20", hw);
  EXPECT_EQ(hex(body), "0210746573742e746573742e746573743230" + hex(hw));
  auto m = decode_ok(body);
  EXPECT_EQ(m.type, message_type::notify);
  EXPECT_EQ(m.route, "test.test.test20");
}

TEST(MessageVectors, M6PushPlain) {
  auto body = encode(message_type::push, 0, "test.test.test9", hw);
  EXPECT_EQ(hex(body), "060f746573742e746573742e7465737439" + hex(hw));
  EXPECT_EQ(decode_ok(body).route, "test.test.test9");
}

TEST(MessageVectors, M7PushCompressed) {
  auto body = encode(message_type::push, 0, "test.test.test3", hw);
  EXPECT_EQ(hex(body), "070067" + hex(hw));
  auto m = decode_ok(body);
  EXPECT_EQ(m.type, message_type::push);
  EXPECT_EQ(m.route, "test.test.test3");
}

TEST(VarintVectors, V1Id300) {
  EXPECT_EQ(hex(encode(message_type::request, 300, "a.b", "")), "00ac0203612e62");
  EXPECT_EQ(decode_ok(unhex("00ac0203612e62")).id, 300u);
}

TEST(VarintVectors, V2Id16384) {
  EXPECT_EQ(hex(encode(message_type::request, 16384, "a.b", "")), "0080800103612e62");
  EXPECT_EQ(decode_ok(unhex("0080800103612e62")).id, 16384u);
}

TEST(VarintVectors, V3Id2Pow35) {
  auto body = encode(message_type::request, 1ull << 35, "a.b", "");
  EXPECT_EQ(hex(body), "008080808080010" "3612e62");
  EXPECT_EQ(decode_ok(body).id, 1ull << 35);
}

TEST(VarintVectors, MaxId) {
  auto body = encode(message_type::request, ~0ull, "a.b", "x");
  EXPECT_EQ(decode_ok(body).id, ~0ull);
}

TEST(EdgeVectors, V4CompressedNoPayload) {
  auto m = decode_ok(unhex("01010065"));
  EXPECT_EQ(m.type, message_type::request);
  EXPECT_EQ(m.id, 1u);
  EXPECT_EQ(m.route, "test.test.test1");
  EXPECT_TRUE(m.payload.empty());
}

TEST(EdgeVectors, V5ReservedBitsIgnored) {
  auto m = decode_ok(unhex("100103612e62"));
  EXPECT_EQ(m.type, message_type::request);
  EXPECT_EQ(m.id, 1u);
  EXPECT_EQ(m.route, "a.b");
}

TEST(EdgeVectors, V6TooShort) {
  EXPECT_EQ(decode_err(unhex("00")), error::invalid_message);
  EXPECT_EQ(decode_err(""), error::invalid_message);
  EXPECT_STREQ(to_string(error::invalid_message), "invalid message");
}

TEST(EdgeVectors, V7WrongMessageType) {
  EXPECT_EQ(decode_err(unhex("0800")), error::wrong_message_type);
  EXPECT_EQ(decode_err(unhex("0a00")), error::wrong_message_type);
  EXPECT_EQ(decode_err(unhex("0e00")), error::wrong_message_type);
}

TEST(EdgeVectors, V8EmptyResponsePayloadAccepted) {
  // nano refuses `04 05` ("wrong message"); we accept it as documented (spec 1.4 port note).
  auto m = decode_ok(unhex("0405"));
  EXPECT_EQ(m.type, message_type::response);
  EXPECT_EQ(m.id, 5u);
  EXPECT_TRUE(m.payload.empty());
}

TEST(EdgeVectors, V9ResponseWithPayload) {
  auto m = decode_ok(unhex("04057b7d"));
  EXPECT_EQ(m.id, 5u);
  EXPECT_EQ(m.payload, "{}");
}

TEST(EdgeVectors, V10RouteLongerThanBody) {
  EXPECT_EQ(decode_err(unhex("02056162")), error::wrong_message);
}

TEST(EdgeVectors, V11UnknownDictionaryCode) {
  EXPECT_EQ(decode_err(unhex("030099")), error::route_not_in_dictionary);
  message m;
  EXPECT_EQ(decode_message(unhex("030064"), nullptr, m), error::route_not_in_dictionary);
}

TEST(EdgeVectors, V12TruncatedCompressedRouteIsWrongMessage) {
  EXPECT_EQ(decode_err(unhex("0300")), error::wrong_message);
  EXPECT_EQ(decode_err(unhex("010100")), error::wrong_message);
}

TEST(EdgeVectors, V13EmptyNotifyAndPush) {
  auto n = decode_ok(unhex("0200"));
  EXPECT_EQ(n.type, message_type::notify);
  EXPECT_TRUE(n.route.empty());
  EXPECT_TRUE(n.payload.empty());
  auto p = decode_ok(unhex("0600"));
  EXPECT_EQ(p.type, message_type::push);
}

TEST(EdgeVectors, UnterminatedVarintIsWrongMessage) {
  EXPECT_EQ(decode_err(unhex("00ff")), error::wrong_message);
  EXPECT_EQ(decode_err(unhex("00ffffff")), error::wrong_message);
  EXPECT_EQ(decode_err(unhex("04808080808080808080")), error::wrong_message);
  // an 11-byte varint overflows 64 bits
  EXPECT_EQ(decode_err(unhex("04ffffffffffffffffff7f")), error::wrong_message);
}

TEST(EdgeVectors, EncoderRefusesLongRoute) {
  std::string out;
  EXPECT_EQ(encode_message(message_type::push, 0, std::string(256, 'r'), "", nullptr, out),
            error::route_too_long);
  EXPECT_EQ(encode_message(message_type::push, 0, std::string(255, 'r'), "", nullptr, out),
            error::none);
}

TEST(EdgeVectors, DataPacketEncoderRefusesHugeBody) {
  std::string out = "keep";
  EXPECT_EQ(encode_data_packet(message_type::push, 0, "a.b", std::string(0xFFFFFF, 'x'), nullptr,
                               out),
            error::body_too_large);
  EXPECT_EQ(out, "keep");
}

// ---- end-to-end chat traffic --------------------------------------------------------------

namespace {
std::string data_packet(message_type t, std::uint64_t id, std::string_view route,
                        std::string_view payload) {
  std::string out;
  EXPECT_EQ(encode_data_packet(t, id, route, payload, nullptr, out), error::none);
  return out;
}
} // namespace

TEST(ChatVectors, E1JoinRequest) {
  EXPECT_EQ(hex(data_packet(message_type::request, 1, "room.join", "{}")),
            "0400000e000109726f6f6d2e6a6f696e7b7d");
}

TEST(ChatVectors, E2OnMembersPush) {
  EXPECT_EQ(hex(data_packet(message_type::push, 0, "onMembers", R"({"members":null})")),
            "0400001b06096f6e4d656d626572737b226d656d62657273223a6e756c6c7d");
}

TEST(ChatVectors, E3JoinResponse) {
  EXPECT_EQ(hex(data_packet(message_type::response, 1, "", R"({"code":0,"result":"success"})")),
            "0400001f04017b22636f6465223a302c22726573756c74223a2273756363657373227d");
}

TEST(ChatVectors, E4MessageNotify) {
  std::string json = R"({"name":"a","content":"hi"})";
  std::string body;
  ASSERT_EQ(encode_message(message_type::notify, 0, "room.message", json, nullptr, body),
            error::none);
  EXPECT_EQ(hex(body), "020c726f6f6d2e6d657373616765" + hex(json));
}

TEST(ChatVectors, E5HandshakeResponsePacket) {
  std::string json = R"({"code":200,"sys":{"heartbeat":30,"servertime":1700000000}})";
  std::string out;
  ASSERT_EQ(encode_packet(packet_type::handshake, json, out), error::none);
  EXPECT_EQ(hex(out.substr(0, 4)), "0100003b");
}

TEST(ChatVectors, E6JsHandshake) {
  std::string json = R"({"sys":{"type":"js-websocket","version":"0.0.1","rsa":{}}})";
  std::string out;
  ASSERT_EQ(encode_packet(packet_type::handshake, json, out), error::none);
  EXPECT_EQ(hex(out.substr(0, 4)), "0100003a");
}

TEST(ChatVectors, E7AckAndHeartbeat) {
  stream_decoder d;
  std::vector<packet> got;
  ASSERT_EQ(d.feed(unhex("0200000003000000"), got), error::none);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, packet_type::handshake_ack);
  EXPECT_EQ(got[1].type, packet_type::heartbeat);
}

TEST(ChatVectors, E8JsCompressedNotify) {
  EXPECT_EQ(hex(encode(message_type::notify, 0, "test.test.test", hw)), "030064" + hex(hw));
}

TEST(Dictionary, LastOneWinsBothWays) {
  route_dictionary d;
  d.add("  a.b ", 1);
  d.add("a.c", 1); // code 1 moves to a.c; a.b loses its code
  EXPECT_FALSE(d.code_of("a.b"));
  EXPECT_EQ(*d.code_of("a.c"), 1);
  EXPECT_EQ(*d.route_of(1), "a.c");
  d.add("a.c", 2);
  EXPECT_EQ(d.route_of(1), nullptr);
  EXPECT_EQ(*d.route_of(2), "a.c");
  EXPECT_EQ(d.size(), 1u);
}
