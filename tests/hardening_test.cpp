// What a hostile or careless client may send, over real sockets: JSON nested to exhaust the
// stack, handshakes that are not JSON objects or never acked, and a web folder that leads out
// of itself or into files that block or never end. Beside each attack a healthy client checks
// that the node still serves.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "nanocaf/log.hpp"
#include "support/http_get.hpp"
#include "support/test_client.hpp"
#include "support/test_server.hpp"

using namespace nanocaf;
using namespace nanocaf::test;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<test_client> ready_tcp(test_server& srv) {
  auto c = test_client::connect_tcp(srv.tcp_port());
  c->handshake_and_ack();
  return c;
}

void expect_still_serving(test_server& srv) {
  auto healthy = ready_tcp(srv);
  auto id = healthy->request("probe.echo", "alive");
  auto reply = healthy->response(id);
  ASSERT_TRUE(reply) << "the node stopped serving";
  EXPECT_EQ(reply->payload, "alive");
}

// The kick packet the server sends `c`, skipping what comes before it; nullopt when none
// comes within 5 s.
std::optional<codec::packet> next_kick(test_client& c) {
  while (auto p = c.next_packet(5s))
    if (p->type == codec::packet_type::kick)
      return p;
  return std::nullopt;
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

} // namespace

TEST(Hardening, DeeplyNestedJsonGets400AndTheNodeLives) {
  server_config cfg;
  cfg.gateway.max_packet_body = 1u << 20;
  test_server srv{cfg};
  auto c = ready_tcp(srv);
  // 80,000 deep crashed the node (the printer recursed until the stack ended).
  auto deep = c->request("probe.json", nested(80000));
  auto reply = c->response(deep, 10s);
  ASSERT_TRUE(reply);
  auto body = json::parse(reply->payload);
  EXPECT_EQ(body["code"], 400);
  // At the limit it is still served; one deeper is refused. Brackets in strings do not count.
  auto at_limit = c->request("probe.json", nested(default_max_json_depth));
  auto over = c->request("probe.json", nested(default_max_json_depth + 1));
  auto quoted = c->request("probe.json", json{{"s", std::string(5000, '[')}}.dump());
  reply = c->response(at_limit);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->payload, nested(default_max_json_depth));
  reply = c->response(over);
  ASSERT_TRUE(reply);
  EXPECT_EQ(json::parse(reply->payload)["code"], 400);
  reply = c->response(quoted);
  ASSERT_TRUE(reply);
  EXPECT_EQ(json::parse(reply->payload)["s"].get<std::string>().size(), 5000u);
  expect_still_serving(srv);
}

TEST(Hardening, TheJsonDepthLimitIsConfigurable) {
  server_config cfg;
  cfg.runtime.max_json_depth = 3;
  test_server srv{cfg};
  auto c = ready_tcp(srv);
  auto ok = c->request("probe.typed", R"({"x":1,"y":2})");
  auto deep = c->request("probe.typed", R"({"x":1,"y":2,"z":[[[1]]]})");
  auto reply = c->response(ok);
  ASSERT_TRUE(reply);
  EXPECT_EQ(json::parse(reply->payload)["x"], 2);
  reply = c->response(deep);
  ASSERT_TRUE(reply);
  EXPECT_EQ(json::parse(reply->payload)["code"], 400);
}

TEST(Hardening, AHandshakeBodyThatIsNotAJsonObjectIsRefusedWith400) {
  server_config cfg;
  cfg.gateway.max_packet_body = 1u << 20;
  test_server srv{cfg};
  for (const std::string& body : {std::string{"[1,2]"}, std::string{"not json"},
                                  std::string{"\"text\""}, nested(50000)}) {
    auto c = test_client::connect_tcp(srv.tcp_port());
    c->send_packet(codec::packet_type::handshake, body);
    auto p = c->next_packet(5s);
    ASSERT_TRUE(p) << body.substr(0, 20);
    EXPECT_EQ(p->type, codec::packet_type::handshake);
    EXPECT_EQ(json::parse(p->body)["code"], 400) << body.substr(0, 20);
    EXPECT_TRUE(c->closed_by_server()) << body.substr(0, 20);
  }
  // Go clients send an empty handshake; pomelo clients an object: both are welcome.
  auto go = test_client::connect_tcp(srv.tcp_port());
  EXPECT_EQ(json::parse(go->handshake_and_ack(""))["code"], 200);
  expect_still_serving(srv);
}

TEST(Hardening, AClientThatNeverAcksIsClosedAtTheHandshakeTimeout) {
  server_config cfg;
  cfg.runtime.handshake_timeout = 300ms;
  cfg.runtime.heartbeat = 30s; // before, it was held until 2H
  test_server srv{cfg};
  auto c = test_client::connect_tcp(srv.tcp_port());
  c->send_packet(codec::packet_type::handshake, R"({"sys":{}})");
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(c->closed_by_server(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

// The static file server, against a web folder with traps in it.
class WebFolder : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("nanocaf-web-" + std::to_string(::getpid()));
    outside_ = root_.string() + "-outside";
    fs::remove_all(root_);
    fs::remove_all(outside_);
    fs::create_directories(root_ / "sub");
    fs::create_directories(outside_);
    write(root_ / "index.html", "<h1>index</h1>");
    write(root_ / "sub" / "index.html", "sub index");
    write(root_ / "app.js", "console.log(1)");
    write(outside_ / "secret.txt", "secret");
    fs::create_symlink("/", root_ / "root-link");
    fs::create_symlink(outside_ / "secret.txt", root_ / "secret-link");
    fs::create_symlink(outside_, root_ / "outside-dir-link");
    fs::create_symlink(root_ / "app.js", root_ / "inside-link.js");            // stays inside
    fs::create_symlink(root_ / "inside-link.js", root_ / "chain-inside.js");   // link to a link
    fs::create_symlink(root_ / "secret-link", root_ / "chain-outside");        // leads out
    fs::create_symlink("/dev/zero", root_ / "zero");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
    server_config cfg;
    cfg.gateway.static_dir = root_.string();
    cfg.gateway.max_static_file = 4u << 20;
    srv_ = std::make_unique<test_server>(cfg);
  }
  void TearDown() override {
    srv_.reset();
    fs::remove_all(root_);
    fs::remove_all(outside_);
  }
  static void write(const fs::path& p, const std::string& text) {
    std::ofstream{p, std::ios::binary} << text;
  }
  http_reply get(const std::string& path) { return http_get(srv_->ws_port(), path); }

  fs::path root_, outside_;
  std::unique_ptr<test_server> srv_;
};

TEST_F(WebFolder, ServesItsOwnFilesAndLinksThatStayInside) {
  EXPECT_EQ(get("/web/").body, "<h1>index</h1>");
  EXPECT_EQ(get("/web/app.js").body, "console.log(1)");
  EXPECT_EQ(get("/web/inside-link.js").body, "console.log(1)");
  EXPECT_EQ(get("/web/chain-inside.js").body, "console.log(1)");
  EXPECT_EQ(get("/web/sub/").body, "sub index");
}

TEST_F(WebFolder, RefusesLinksThatLeadOutOfIt) {
  for (auto path : {"/web/root-link/etc/passwd", "/web/root-link/etc/shadow",
                    "/web/root-link/proc/self/environ", "/web/secret-link",
                    "/web/outside-dir-link/secret.txt", "/web/chain-outside", "/web/zero",
                    "/web/../etc/passwd", "/web/sub/../../etc/passwd"}) {
    auto r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << path;
  }
}

TEST_F(WebFolder, AFifoIsRefusedWithoutBlockingOtherClients) {
  // Before, opening the FIFO waited for a writer on the gateway's only I/O thread.
  auto r = get("/web/fifo");
  EXPECT_EQ(r.status, 404);
  expect_still_serving(*srv_);
}

TEST_F(WebFolder, AFolderWithoutItsSlashIsRedirected) {
  auto r = get("/web/sub");
  EXPECT_EQ(r.status, 301);
  EXPECT_NE(r.headers.find("/web/sub/"), std::string::npos) << r.headers;
}

TEST_F(WebFolder, LargeFilesAreStreamedWholeAndFilesOverTheCapRefused) {
  std::string big(3u << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096)
    big[i] = static_cast<char>('a' + (i / 4096) % 26); // a pattern, so that order counts
  write(root_ / "big.bin", big);
  write(root_ / "huge.bin", std::string((4u << 20) + 1, 'y'));
  auto r = get("/web/big.bin");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body == big) << "got " << r.body.size() << " bytes";
  EXPECT_EQ(get("/web/huge.bin").status, 404);
  auto head = http_exchange(srv_->ws_port(),
                            "HEAD /web/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_NE(head.headers.find(std::to_string(big.size())), std::string::npos) << head.headers;
}

// The default per-client budget: far above what a game client sends, far below a flood.
// Heartbeats count; before, a heartbeat flood was never closed (7.2 GB in 12 s).
TEST(Hardening, AHeartbeatFloodIsKickedUnderTheDefaultBudget) {
  server_config cfg;
  runtime_options defaults;
  cfg.runtime.rate_limit = defaults.rate_limit;
  cfg.runtime.rate_burst = defaults.rate_burst;
  test_server srv{cfg};
  auto healthy = ready_tcp(srv);
  auto flooder = ready_tcp(srv);
  std::string beats;
  for (int i = 0; i < 2000; ++i)
    codec::encode_packet(codec::packet_type::heartbeat, "", beats);
  flooder->send_raw(beats);
  auto kick = next_kick(*flooder);
  ASSERT_TRUE(kick) << "the flooder was not kicked";
  EXPECT_EQ(json::parse(kick->body)["reason"], "rate limit exceeded");
  EXPECT_TRUE(flooder->closed_by_server());
  // A client at a game's pace is untouched: 60 messages a second for a second and a half.
  for (int i = 0; i < 90; ++i) {
    auto id = healthy->request("probe.echo", "tick");
    auto reply = healthy->response(id);
    ASSERT_TRUE(reply) << "request " << i;
    std::this_thread::sleep_for(16ms);
  }
}

// One client's broadcasts are charged one delivery per member: past the fan-out budget the
// broadcast is dropped and that client kicked, and the other members are not flooded.
TEST(Hardening, BroadcastsBeyondTheFanoutBudgetKickTheirSender) {
  server_config cfg;
  cfg.runtime.fanout_limit = 100; // deliveries a second; 10 members: 10 broadcasts
  test_server srv{cfg};
  std::vector<std::unique_ptr<test_client>> members;
  for (int i = 0; i < 10; ++i) {
    members.push_back(ready_tcp(srv));
    ASSERT_TRUE(members.back()->response(members.back()->request("probe.join", "")));
  }
  auto& sender = *members.front();
  for (int i = 0; i < 30; ++i)
    sender.notify("probe.broadcast", json{{"i", i}}.dump());
  auto kick = next_kick(sender);
  ASSERT_TRUE(kick) << "the sender was not kicked";
  EXPECT_EQ(json::parse(kick->body)["reason"], "rate limit exceeded");
  // Another member got at most the budget's worth (10 broadcasts), then nothing more.
  int received = 0;
  while (members[1]->push("onBroadcast", 500ms))
    ++received;
  EXPECT_GE(received, 9);
  EXPECT_LE(received, 11);
  EXPECT_EQ(runtime_options{}.fanout_limit, 20000);
}

// Pings are control frames: they count against the packet budget like heartbeats. A client
// that pings and never reads the pongs used to be closed without a word; now it is kicked,
// counted and logged.
TEST(Hardening, AWebSocketPingFloodIsKickedAndCounted) {
  server_config cfg;
  runtime_options defaults;
  cfg.runtime.rate_limit = defaults.rate_limit;
  cfg.runtime.rate_burst = defaults.rate_burst;
  test_server srv{cfg};
  auto c = test_client::connect_ws(srv.ws_port());
  c->handshake_and_ack();
  for (int i = 0; i < 2000; ++i)
    c->send_ws_frame(0x9, "ping");
  auto kick = next_kick(*c);
  ASSERT_TRUE(kick);
  EXPECT_EQ(json::parse(kick->body)["reason"], "rate limit exceeded");
  EXPECT_NE(srv.rt().metrics().render().find("nanocaf_rate_limited_total 1"), std::string::npos);
  expect_still_serving(srv);
}

// After its kick a client that keeps sending is cut off within max_linger_bytes, not read for
// the whole 2 s linger (3.6 GB in one test).
TEST(Hardening, AKickedClientThatKeepsSendingIsCutOff) {
  test_server srv;
  auto c = ready_tcp(srv);
  c->request("probe.kick", "");
  auto kick = next_kick(*c);
  ASSERT_TRUE(kick);
  auto kicked = std::chrono::steady_clock::now(); // the server lingers from here
  std::string chunk(64 * 1024, 'z');
  bool cut_off = false;
  while (std::chrono::steady_clock::now() - kicked < 3s) {
    auto n = ::send(c->fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      cut_off = true;
      break;
    }
    if (n < 0)
      std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(cut_off);
  EXPECT_LT(std::chrono::steady_clock::now() - kicked, 1s);
}

// A flood of connections beyond the limit writes a few lines, not one each.
TEST(Hardening, RefusedConnectionsAreLoggedAtMostOnceASecond) {
  auto log_file = fs::temp_directory_path() / ("nanocaf-refused-" + std::to_string(::getpid()));
  server_config cfg;
  cfg.gateway.max_connections = 1;
  test_server srv{cfg};
  auto held = ready_tcp(srv);
  log::configure({log::level::info, log_file.string()});
  for (int i = 0; i < 300; ++i)
    test_client::connect_tcp(srv.tcp_port());
  std::this_thread::sleep_for(300ms);
  log::configure({});
  std::ifstream in{log_file};
  int lines = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find("connection limit reached") != std::string::npos)
      ++lines;
  fs::remove(log_file);
  EXPECT_GE(lines, 1);
  EXPECT_LE(lines, 2);
}
