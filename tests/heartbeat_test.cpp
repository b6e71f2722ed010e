// Heartbeats as nano's browser client (starx) does them, over TCP and WebSocket: it answers a
// server heartbeat one interval H after receiving it and ignores the heartbeats that arrive
// while its answer is pending, so its heartbeats can be 2H apart plus delays, and it sends
// nothing else while idle. Such a client must never be dropped; a silent one must be dropped
// after 2H and before 3H (nano's window).
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "support/test_client.hpp"
#include "support/test_server.hpp"

using namespace nanocaf;
using namespace nanocaf::test;

namespace {

using clock_type = std::chrono::steady_clock;

std::unique_ptr<test_client> connect(test_server& srv, test_client::transport t) {
  auto c = t == test_client::transport::tcp ? test_client::connect_tcp(srv.tcp_port())
                                            : test_client::connect_ws(srv.ws_port());
  c->handshake_and_ack();
  return c;
}

// Plays starx for `intervals` heartbeat periods; returns "" when still connected at the end,
// else what went wrong.
std::string behave_like_starx(test_server& srv, test_client::transport t, ms h, int intervals) {
  auto c = connect(srv, t);
  auto end = clock_type::now() + h * intervals;
  std::optional<clock_type::time_point> answer_at; // at most one answer pending
  int answered = 0;
  while (clock_type::now() < end) {
    auto until = answer_at ? std::min(*answer_at, end) : end;
    auto wait = std::chrono::duration_cast<ms>(until - clock_type::now());
    if (wait > 0ms) {
      auto p = c->next_packet(wait);
      if (p) {
        if (p->type == codec::packet_type::heartbeat && !answer_at)
          // setTimeout(send heartbeat, interval), fired late as browser timers are: the next
          // server beat then finds the answer pending and is ignored, so answers come 2H
          // apart plus whatever our own beats are late by.
          answer_at = clock_type::now() + h + h / 8 + 20ms;
        continue;
      }
      if (c->closed_by_server(0ms))
        return "closed by the server after " + std::to_string(answered) + " heartbeats";
    }
    if (answer_at && clock_type::now() >= *answer_at) {
      c->send_packet(codec::packet_type::heartbeat);
      ++answered;
      answer_at.reset();
    }
  }
  if (answered < intervals / 3)
    return "only " + std::to_string(answered) + " heartbeats in " + std::to_string(intervals)
           + " intervals";
  auto id = c->request("probe.echo", "still here");
  auto reply = c->response(id);
  return reply ? "" : "no reply at the end";
}

// Sends its handshake and ack, then nothing: returns how long after the ack it was closed.
ms silent_until_dropped(test_server& srv, test_client::transport t, ms limit) {
  auto c = connect(srv, t);
  auto acked = clock_type::now();
  c->closed_by_server(limit);
  return std::chrono::duration_cast<ms>(clock_type::now() - acked);
}

server_config with_heartbeat(ms h) {
  server_config cfg;
  cfg.runtime.heartbeat = h;
  return cfg;
}

} // namespace

// Four starx clients (H = 1 s and 2 s, TCP and WebSocket) for 20 intervals each, side by
// side, and beside each server a silent client that must go in nano's window.
TEST(Heartbeat, StarxLikeClientsStayAndSilentOnesGoBetween2HAnd3H) {
  test_server one{with_heartbeat(1s)};
  test_server two{with_heartbeat(2s)};
  using T = test_client::transport;
  auto run = [](test_server& srv, T t, ms h) {
    return std::async(std::launch::async, [&srv, t, h] { return behave_like_starx(srv, t, h, 20); });
  };
  auto a = run(one, T::tcp, 1s), b = run(one, T::websocket, 1s);
  auto c = run(two, T::tcp, 2s), d = run(two, T::websocket, 2s);
  auto silent = [](test_server& srv, T t, ms h) {
    return std::async(std::launch::async, [&srv, t, h] { return silent_until_dropped(srv, t, 4 * h); });
  };
  auto s1 = silent(one, T::tcp, 1s), s2 = silent(two, T::websocket, 2s);
  EXPECT_EQ(a.get(), "") << "TCP, H = 1 s";
  EXPECT_EQ(b.get(), "") << "WebSocket, H = 1 s";
  EXPECT_EQ(c.get(), "") << "TCP, H = 2 s";
  EXPECT_EQ(d.get(), "") << "WebSocket, H = 2 s";
  auto gone1 = s1.get(), gone2 = s2.get();
  EXPECT_GT(gone1, 2s);
  EXPECT_LT(gone1, 3s);
  EXPECT_GT(gone2, 4s);
  EXPECT_LT(gone2, 6s);
}
