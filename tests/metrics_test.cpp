// Metrics: the registry's text format, and a real node counting what real clients do, read
// over HTTP from its metrics endpoint as Prometheus would.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "nanocaf/gateway/metrics_endpoint.hpp"
#include "nanocaf/metrics.hpp"
#include "support/http_get.hpp"
#include "support/test_client.hpp"
#include "support/test_server.hpp"

using namespace nanocaf;
using namespace nanocaf::test;

namespace {

// The value of the sample whose name and labels are exactly `series`; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0)
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

} // namespace

TEST(MetricsRegistry, RendersCountersGaugesAndLabelsInTextFormat) {
  metrics::registry r;
  r.counters("app_hits_total", "Hits.", {"route"}).with({"a.b"}).inc(3);
  r.counters("app_hits_total", "Hits.", {"route"}).with({"quote\"back\\slash\nline"}).inc();
  r.gauges("app_open", "Open things.").get().add(5);
  r.gauges("app_open", "Open things.").get().sub(2);
  auto text = r.render();
  EXPECT_NE(text.find("# HELP app_hits_total Hits.\n# TYPE app_hits_total counter\n"),
            std::string::npos);
  EXPECT_EQ(sample(text, R"(app_hits_total{route="a.b"})"), 3);
  EXPECT_EQ(sample(text, R"(app_hits_total{route="quote\"back\\slash\nline"})"), 1);
  EXPECT_EQ(sample(text, "app_open"), 3);
  EXPECT_GT(sample(text, "process_resident_memory_bytes"), 0);
  EXPECT_GT(sample(text, "process_open_fds"), 0);
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeWithSumAndCount) {
  metrics::registry r;
  auto& h = r.histograms("app_seconds", "Latency.", {}, {0.001, 0.01, 0.1}).get();
  h.observe(0.0005);
  h.observe(0.005);
  h.observe(0.005);
  h.observe(5);
  auto text = r.render();
  EXPECT_EQ(sample(text, R"(app_seconds_bucket{le="0.001"})"), 1);
  EXPECT_EQ(sample(text, R"(app_seconds_bucket{le="0.01"})"), 3);
  EXPECT_EQ(sample(text, R"(app_seconds_bucket{le="0.1"})"), 3);
  EXPECT_EQ(sample(text, R"(app_seconds_bucket{le="+Inf"})"), 4);
  EXPECT_EQ(sample(text, "app_seconds_count"), 4);
  EXPECT_NEAR(sample(text, "app_seconds_sum"), 5.0105, 1e-9);
}

TEST(MetricsRegistry, RefusesBadNamesAndKindConflicts) {
  metrics::registry r;
  EXPECT_THROW(r.counters("9lives", "x"), std::invalid_argument);
  EXPECT_THROW(r.counters("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(r.counters("ok_total", "x", {"le"}), std::invalid_argument);
  r.counters("thing", "x");
  EXPECT_THROW(r.gauges("thing", "x"), std::invalid_argument);
  EXPECT_THROW(r.counters("thing", "x", {"route"}), std::invalid_argument);
  EXPECT_THROW(r.counters("thing", "x").with({"extra"}), std::invalid_argument);
  r.gauge_callback("cb_value", "x", [] { return 2.5; });
  EXPECT_EQ(sample(r.render(), "cb_value"), 2.5);
  r.remove_callback("cb_value");
  EXPECT_EQ(sample(r.render(), "cb_value"), -1);
}

TEST(MetricsEndpoint, CountsWhatRealClientsDo) {
  test_server srv;
  metrics_endpoint endpoint{srv.rt().metrics(), "127.0.0.1:0"};
  endpoint.start();
  ASSERT_NE(endpoint.port(), 0);

  auto tcp = test_client::connect_tcp(srv.tcp_port());
  tcp->handshake_and_ack();
  auto ws = test_client::connect_ws(srv.ws_port());
  ws->handshake_and_ack();
  ASSERT_TRUE(tcp->response(tcp->request("probe.echo", "hello")));
  ASSERT_TRUE(tcp->response(tcp->request("probe.echo", "again")));
  ASSERT_TRUE(ws->response(ws->request("probe.nosuch", "{}")));
  ASSERT_TRUE(ws->response(ws->request("probe.fail", "{}")));
  ws->notify("probe.count", "");

  auto reply = http_get(endpoint.port(), "/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_NE(reply.headers.find("text/plain; version=0.0.4"), std::string::npos);
  auto& m = reply.body;
  EXPECT_EQ(sample(m, R"(nanocaf_connections{transport="tcp"})"), 1);
  EXPECT_EQ(sample(m, R"(nanocaf_connections{transport="ws"})"), 1);
  EXPECT_EQ(sample(m, "nanocaf_sessions"), 2);
  EXPECT_EQ(sample(m, "nanocaf_handshakes_total"), 2);
  EXPECT_EQ(sample(m, R"(nanocaf_requests_total{route="probe.echo"})"), 2);
  EXPECT_EQ(sample(m, R"(nanocaf_handler_seconds_count{route="probe.echo"})"), 2);
  EXPECT_EQ(sample(m, R"(nanocaf_error_replies_total{code="404"})"), 1);
  EXPECT_EQ(sample(m, R"(nanocaf_error_replies_total{code="500"})"), 1);
  EXPECT_EQ(sample(m, "nanocaf_unknown_routes_total"), 1);
  EXPECT_GT(sample(m, R"(nanocaf_received_bytes_total{transport="tcp"})"), 0);
  EXPECT_GT(sample(m, R"(nanocaf_sent_bytes_total{transport="ws"})"), 0);

  // The notify is counted once it is dispatched; connections are released when closed.
  tcp.reset();
  ws.reset();
  std::string later;
  for (int i = 0; i < 100; ++i) {
    later = http_get(endpoint.port(), "/metrics").body;
    if (sample(later, R"(nanocaf_connections{transport="tcp"})") == 0
        && sample(later, R"(nanocaf_connections{transport="ws"})") == 0
        && sample(later, "nanocaf_sessions") == 0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(sample(later, R"(nanocaf_connections{transport="tcp"})"), 0);
  EXPECT_EQ(sample(later, "nanocaf_sessions"), 0);
  EXPECT_EQ(sample(later, R"(nanocaf_notifies_total{route="probe.count"})"), 1);
  EXPECT_EQ(sample(later, R"(nanocaf_connections_accepted_total{transport="tcp"})"), 1);

  EXPECT_EQ(http_get(endpoint.port(), "/other").status, 404);
}

TEST(MetricsEndpoint, RefusedConnectionsAreCounted) {
  server_config cfg;
  cfg.gateway.max_connections = 1;
  test_server srv{cfg};
  metrics_endpoint endpoint{srv.rt().metrics(), "127.0.0.1:0"};
  endpoint.start();
  auto first = test_client::connect_tcp(srv.tcp_port());
  first->handshake_and_ack();
  auto second = test_client::connect_tcp(srv.tcp_port());
  EXPECT_TRUE(second->closed_by_server());
  auto m = http_get(endpoint.port(), "/metrics").body;
  EXPECT_EQ(sample(m, R"(nanocaf_connections_refused_total{transport="tcp"})"), 1);
  EXPECT_EQ(sample(m, R"(nanocaf_connections{transport="tcp"})"), 1);
}

TEST(MetricsEndpoint, IdleConnectionsCannotKeepAScraperOut) {
  metrics::registry r;
  metrics_endpoint endpoint{r, "127.0.0.1:0"};
  endpoint.start();
  // 40 connections that never send a request: 32 are held, and each newcomer beyond them
  // takes the place of the oldest idle one (before, 32 idle ones refused every scrape for as
  // long as they were renewed).
  std::vector<int> fds;
  for (int i = 0; i < 40; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(endpoint.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    fds.push_back(fd);
  }
  // A scrape now, with every slot taken by an idle connection, is served at once.
  auto started = std::chrono::steady_clock::now();
  auto reply = http_get(endpoint.port(), "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  // The ones that gave way were the oldest: the first 9 (8 newcomers and the scrape).
  std::this_thread::sleep_for(300ms);
  std::vector<pollfd> polls;
  for (int fd : fds)
    polls.push_back({fd, POLLIN, 0});
  ::poll(polls.data(), polls.size(), 0);
  std::vector<int> closed;
  for (std::size_t i = 0; i < polls.size(); ++i) {
    char c;
    if ((polls[i].revents & POLLIN) && ::recv(polls[i].fd, &c, 1, MSG_DONTWAIT) == 0)
      closed.push_back(static_cast<int>(i));
  }
  EXPECT_EQ(closed, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  for (int fd : fds)
    ::close(fd);
}

// Broadcasts a handler makes in a row wait for its end: each member gets them, in order, in one
// write (and the sender its reply with them), not one system call per packet. On our scheduler
// the actor job holds them; on CAF's work-stealing scheduler the handler does.
TEST(MetricsEndpoint, ABurstOfBroadcastsIsOneWritePerMember) {
  for (auto [websocket, policy] : {std::pair{false, "sharing"}, std::pair{true, "sharing"},
                                   std::pair{false, "stealing"}}) {
    SCOPED_TRACE(std::string{websocket ? "WebSocket, " : "TCP, "} + policy);
    server_config cfg;
    cfg.runtime.scheduler_policy = policy;
    test_server srv{cfg};
    const std::string writes = websocket ? R"(nanocaf_socket_writes_total{transport="ws"})"
                                         : R"(nanocaf_socket_writes_total{transport="tcp"})";
    std::vector<std::unique_ptr<test_client>> members;
    for (int i = 0; i < 3; ++i) {
      members.push_back(websocket ? test_client::connect_ws(srv.ws_port())
                                  : test_client::connect_tcp(srv.tcp_port()));
      members.back()->handshake_and_ack();
      ASSERT_TRUE(members.back()->response(members.back()->request("probe.join", "")));
    }
    auto before = sample(srv.rt().metrics().render(), writes);
    ASSERT_GT(before, 0);

    constexpr int n = 50;
    auto id = members[0]->request("probe.burst", R"({"n":50})");
    for (auto& m : members)
      for (int i = 0; i < n; ++i) {
        auto push = m->push("onBurst");
        ASSERT_TRUE(push) << "push " << i;
        EXPECT_EQ(nlohmann::json::parse(push->payload)["i"], i);
      }
    ASSERT_TRUE(members[0]->response(id));
    // A write is counted just after send(2) returns: the client may have read it already.
    double after = 0;
    for (int i = 0; i < 100 && after - before < 3; ++i) {
      if (i > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      after = sample(srv.rt().metrics().render(), writes);
    }
    // One write per member (a socket taking only part of it would add one): 150 without this.
    EXPECT_GE(after - before, 3);
    EXPECT_LE(after - before, 6);
  }
}
