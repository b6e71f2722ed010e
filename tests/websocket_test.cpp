// What only the WebSocket listener does: byte-stream input across messages, one packet per
// message out, path and origin checks, static files on the same port, bad frames.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/stat.h>

#include <fstream>

#include "support/http_get.hpp"
#include "support/test_client.hpp"
#include "support/test_server.hpp"

using namespace nanocaf;
using namespace nanocaf::test;

namespace {

std::string packet_bytes(std::uint64_t id, const std::string& payload) {
  std::string out;
  codec::encode_data_packet(codec::message_type::request, id, "probe.echo", payload, nullptr, out);
  return out;
}

std::string upgrade_request(const std::string& key, const std::string& version) {
  return "GET /nano HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: " + version + "\r\n\r\n";
}

TEST(WebSocket, UpgradeAnswersAsRfc6455) {
  test_server srv;
  // The RFC's own example key and accept value (RFC 6455 1.3).
  auto ok = http_exchange(srv.ws_port(), upgrade_request("dGhlIHNhbXBsZSBub25jZQ==", "13"));
  EXPECT_EQ(ok.status, 101) << ok.headers;
  EXPECT_NE(ok.headers.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos)
    << ok.headers;
  auto old_version = http_exchange(srv.ws_port(), upgrade_request("dGhlIHNhbXBsZSBub25jZQ==", "8"));
  EXPECT_EQ(old_version.status, 426) << old_version.headers;
  EXPECT_NE(old_version.headers.find("Sec-WebSocket-Version: 13"), std::string::npos);
  auto bad_key = http_exchange(srv.ws_port(), upgrade_request("short", "13"));
  EXPECT_EQ(bad_key.status, 400) << bad_key.headers;
}

TEST(WebSocket, PacketsMaySpanAndShareMessages) {
  test_server srv;
  auto c = test_client::connect_ws(srv.ws_port());
  c->handshake_and_ack();
  auto stream = packet_bytes(1, "one") + packet_bytes(2, "two") + packet_bytes(3, "three");
  // Three packets cut into messages at odd places: 1 byte, then 7, then the rest.
  c->send_raw(stream.substr(0, 1));
  c->send_raw(stream.substr(1, 7));
  c->send_raw(stream.substr(8));
  EXPECT_EQ(c->response(1)->payload, "one");
  EXPECT_EQ(c->response(2)->payload, "two");
  EXPECT_EQ(c->response(3)->payload, "three");
}

TEST(WebSocket, WrongPathIsRefused) {
  test_server srv;
  EXPECT_THROW(test_client::connect_ws(srv.ws_port(), "/elsewhere"), std::runtime_error);
}

TEST(WebSocket, OriginCheck) {
  server_config cfg;
  cfg.gateway.check_origin = [](std::string_view origin) { return origin == "http://good.example"; };
  test_server srv{cfg};
  EXPECT_THROW(test_client::connect_ws(srv.ws_port(), "/nano", "http://evil.example"),
               std::runtime_error);
  auto c = test_client::connect_ws(srv.ws_port(), "/nano", "http://good.example");
  c->handshake_and_ack();
  auto id = c->request("probe.echo", "hi");
  EXPECT_EQ(c->response(id)->payload, "hi");
}

TEST(WebSocket, TextFramesCarryTheStreamToo) {
  // nano does not check the frame type (spec 1.1); neither do we.
  test_server srv;
  auto c = test_client::connect_ws(srv.ws_port());
  c->handshake_and_ack();
  c->send_ws_frame(0x1, packet_bytes(1, "text"));
  EXPECT_EQ(c->response(1)->payload, "text");
}

TEST(WebSocket, FragmentedMessagesAreReassembled) {
  test_server srv;
  auto c = test_client::connect_ws(srv.ws_port());
  c->handshake_and_ack();
  auto bytes = packet_bytes(1, "fragmented");
  c->send_ws_frame(0x2, bytes.substr(0, 5), false);
  c->send_ws_frame(0x0, bytes.substr(5), true);
  EXPECT_EQ(c->response(1)->payload, "fragmented");
}

TEST(WebSocket, OversizedMessageClosesOnlyThatConnection) {
  server_config cfg;
  cfg.gateway.max_ws_message = 64 * 1024;
  test_server srv{cfg};
  auto healthy = test_client::connect_ws(srv.ws_port());
  healthy->handshake_and_ack();
  auto bad = test_client::connect_ws(srv.ws_port());
  bad->handshake_and_ack();
  bad->send_ws_frame(0x2, std::string(200 * 1024, '\x03'));
  EXPECT_TRUE(bad->closed_by_server());
  auto id = healthy->request("probe.echo", "ok");
  EXPECT_EQ(healthy->response(id)->payload, "ok");
}

TEST(WebSocket, StaticFilesNextToTheSocket) {
  auto dir = ::testing::TempDir() + "nanocaf_web";
  ::mkdir(dir.c_str(), 0755);
  std::ofstream{dir + "/index.html"} << "<html>hello</html>";
  std::ofstream{dir + "/app.js"} << "console.log(1)";
  server_config cfg;
  cfg.gateway.static_dir = dir;
  test_server srv{cfg};
  auto index = http_get(srv.ws_port(), "/web/");
  EXPECT_EQ(index.status, 200) << index.headers;
  EXPECT_EQ(index.body, "<html>hello</html>");
  EXPECT_NE(index.headers.find("text/html"), std::string::npos);
  auto js = http_get(srv.ws_port(), "/web/app.js");
  EXPECT_NE(js.headers.find("text/javascript"), std::string::npos);
  EXPECT_EQ(http_get(srv.ws_port(), "/web/missing.js").status, 404);
  EXPECT_EQ(http_get(srv.ws_port(), "/web/../etc/passwd").status, 404);
  EXPECT_EQ(http_get(srv.ws_port(), "/").status, 302);
}

TEST(WebSocket, SlowlorisUpgradeIsCutAtTheHttpTimeout) {
  server_config cfg;
  cfg.gateway.http_timeout = std::chrono::milliseconds(300);
  test_server srv{cfg};
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(srv.ws_port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string partial = "GET /nano HTTP/1.1\r\nHost: x\r\n";
  ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[64];
  auto start = std::chrono::steady_clock::now();
  auto n = ::recv(fd, buf, sizeof buf, 0);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(n, 0) << "the server must close a request that never completes";
  EXPECT_LT(waited, 2s);
  ::close(fd);
}

} // namespace

// Control frames over a real socket (our framing: gateway/src/ws_framing.cpp).

TEST(WebSocket, PingIsAnsweredWithPong) {
  test_server srv;
  auto c = test_client::connect_ws(srv.ws_port());
  c->handshake_and_ack();
  c->send_ws_frame(0x9, "are you there");
  auto id = c->request("probe.echo", "after the ping");
  EXPECT_EQ(c->response(id)->payload, "after the ping");
  ASSERT_FALSE(c->ws_control_frames().empty());
  EXPECT_EQ(c->ws_control_frames().front(), std::make_pair(std::uint8_t{0xA}, std::string{"are you there"}));
}

TEST(WebSocket, CloseFrameIsAnsweredThenTheConnectionEnds) {
  test_server srv;
  auto c = test_client::connect_ws(srv.ws_port());
  c->handshake_and_ack();
  c->send_ws_frame(0x8, std::string("\x03\xe8", 2)); // 1000
  EXPECT_TRUE(c->closed_by_server());
  ASSERT_FALSE(c->ws_control_frames().empty());
  EXPECT_EQ(c->ws_control_frames().back(), std::make_pair(std::uint8_t{0x8}, std::string("\x03\xe8", 2)));
}

TEST(WebSocket, KickEndsWithACloseFrame) {
  test_server srv;
  auto c = test_client::connect_ws(srv.ws_port());
  c->handshake_and_ack();
  c->request("probe.kick", "");
  EXPECT_TRUE(c->closed_by_server());
  ASSERT_FALSE(c->ws_control_frames().empty());
  EXPECT_EQ(c->ws_control_frames().back(), std::make_pair(std::uint8_t{0x8}, std::string("\x03\xe8", 2)));
}

TEST(WebSocket, UnmaskedFrameClosesWithProtocolErrorOthersUnaffected) {
  test_server srv;
  auto healthy = test_client::connect_ws(srv.ws_port());
  healthy->handshake_and_ack();
  auto bad = test_client::connect_ws(srv.ws_port());
  bad->handshake_and_ack();
  bad->send_unframed(std::string("\x82\x03" "abc", 5)); // RFC 6455 5.1: clients must mask
  EXPECT_TRUE(bad->closed_by_server());
  ASSERT_FALSE(bad->ws_control_frames().empty());
  EXPECT_EQ(bad->ws_control_frames().back(), std::make_pair(std::uint8_t{0x8}, std::string("\x03\xea", 2)));
  auto id = healthy->request("probe.echo", "still here");
  EXPECT_EQ(healthy->response(id)->payload, "still here");
}
