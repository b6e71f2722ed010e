// The protocol over real sockets, on TCP and on WebSocket: handshake, ack gating, requests
// pipelined and matched by id, notify, push, kick, error replies, data and close callbacks.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <pthread.h>

#include <sys/epoll.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <typeinfo>

#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include "detail/connection.hpp"
#include "nanocaf/proto/chat.pb.h"
#include "nanocaf/validators.hpp"
#include "support/test_client.hpp"
#include "support/test_server.hpp"
#include "support/wait_for.hpp"

using namespace nanocaf;
using namespace nanocaf::test;
using json = nlohmann::json;

namespace {

// Each test runs over both transports, and under two scheduler policies: "sharing" (actors on
// worker threads) and "io" (actors on the gateway's Asio thread between its reads); "sharing"
// also with two Asio threads, where plain sockets wait on Asio's reactor instead of in the
// gateway's own poller (one Asio thread).
struct protocol_mode {
  test_client::transport transport;
  const char* scheduler_policy;
  std::size_t io_threads = 1;
};

class Protocol : public ::testing::TestWithParam<protocol_mode> {
protected:
  static server_config config() {
    server_config cfg;
    cfg.runtime.scheduler_policy = GetParam().scheduler_policy;
    cfg.gateway.io_threads = GetParam().io_threads;
    return cfg;
  }
  std::unique_ptr<test_client> connect(test_server& srv) {
    return GetParam().transport == test_client::transport::tcp
             ? test_client::connect_tcp(srv.tcp_port())
             : test_client::connect_ws(srv.ws_port());
  }
  std::unique_ptr<test_client> ready(test_server& srv) {
    auto c = connect(srv);
    c->handshake_and_ack();
    return c;
  }
  static json body(const std::optional<codec::message>& m) {
    EXPECT_TRUE(m.has_value());
    return m ? json::parse(m->payload) : json();
  }
  // One member, one handler broadcasting `n` pushes of `pad` bytes (probe.burst) under a write
  // queue bound of `write_queue_limit`; the client starts reading after `read_after`. Every
  // push must arrive whole and in order, then the reply.
  void burst_to_one_member(std::size_t write_queue_limit, int n, std::size_t pad,
                           std::chrono::milliseconds read_after) {
    auto cfg = config();
    cfg.gateway.write_queue_limit = write_queue_limit;
    test_server srv{cfg};
    auto c = ready(srv);
    ASSERT_TRUE(c->response(c->request("probe.join", "")));
    auto id = c->request("probe.burst", json{{"n", n}, {"size", pad}}.dump());
    std::this_thread::sleep_for(read_after);
    for (int i = 0; i < n; ++i) {
      auto push = c->push("onBurst");
      ASSERT_TRUE(push) << "push " << i;
      auto b = json::parse(push->payload);
      ASSERT_EQ(b["i"], i);
      ASSERT_EQ(b["pad"].get<std::string>().size(), pad);
    }
    EXPECT_TRUE(c->response(id));
  }
};

std::string mode_name(const ::testing::TestParamInfo<protocol_mode>& info) {
  std::string name = info.param.transport == test_client::transport::tcp ? "Tcp" : "WebSocket";
  if (info.param.io_threads > 1)
    return name + "TwoAsioThreads";
  if (std::string{info.param.scheduler_policy} != "io")
    return name;
  return name + "ActorsOnAsioThread";
}

INSTANTIATE_TEST_SUITE_P(
  Transports, Protocol,
  ::testing::Values(protocol_mode{test_client::transport::tcp, "sharing"},
                    protocol_mode{test_client::transport::websocket, "sharing"},
                    protocol_mode{test_client::transport::tcp, "io"},
                    protocol_mode{test_client::transport::websocket, "io"},
                    protocol_mode{test_client::transport::tcp, "sharing", 2},
                    protocol_mode{test_client::transport::websocket, "sharing", 2}),
  mode_name);

TEST_P(Protocol, HandshakeResponseAsNano) {
  auto cfg = config();
  cfg.runtime.heartbeat = std::chrono::milliseconds(1500);
  test_server srv{cfg};
  auto c = connect(srv);
  auto text = c->handshake_and_ack();
  auto hs = json::parse(text);
  EXPECT_EQ(hs["code"], 200);
  EXPECT_EQ(hs["sys"]["heartbeat"], 1.5);
  EXPECT_TRUE(hs["sys"]["servertime"].is_number_integer());
  EXPECT_FALSE(hs["sys"].contains("dict"));
  EXPECT_EQ(text.rfind(R"({"code":200,"sys":{"heartbeat":1.5,"servertime":)", 0), 0u) << text;
}

TEST_P(Protocol, HandshakeCarriesDictionaryAndCompressedRoutesWork) {
  auto cfg = config();
  cfg.runtime.dictionary.add("probe.json", 7);
  cfg.runtime.dictionary.add("onPush", 9);
  test_server srv{cfg};
  auto c = connect(srv);
  auto hs = json::parse(c->handshake_and_ack());
  EXPECT_EQ(hs["sys"]["dict"], (json{{"onPush", 9}, {"probe.json", 7}}));
  // Request with the route compressed to code 7.
  auto id = c->request("probe.json", R"({"a":1})", &cfg.runtime.dictionary);
  EXPECT_EQ(body(c->response(id)), (json{{"a", 1}}));
  // Pushes on a dictionary route come compressed: decoding without the dictionary fails.
  auto id2 = c->request("probe.push", R"({"n":1})");
  auto raw = c->next_packet();
  ASSERT_TRUE(raw);
  codec::message m;
  EXPECT_EQ(codec::decode_message(raw->body, nullptr, m), codec::error::route_not_in_dictionary);
  EXPECT_EQ(codec::decode_message(raw->body, &cfg.runtime.dictionary, m), codec::error::none);
  EXPECT_EQ(m.route, "onPush");
  EXPECT_TRUE(m.route_compressed);
  EXPECT_TRUE(c->response(id2));
}

TEST_P(Protocol, HandlersRunOnTheThreadsTheSchedulerPolicySays) {
  test_server srv{config()};
  auto c = ready(srv);
  auto name = body(c->response(c->request("probe.thread", ""))).at("name").get<std::string>();
  EXPECT_EQ(name, std::string{GetParam().scheduler_policy} == "io" ? "nanocaf.io" : "caf.worker");
}

TEST_P(Protocol, DataBeforeAckClosesTheConnection) {
  test_server srv{config()};
  auto c = connect(srv);
  c->send_packet(codec::packet_type::handshake, "{}");
  ASSERT_TRUE(c->next_packet()); // handshake response
  c->request("probe.json", "{}");
  EXPECT_TRUE(c->closed_by_server());
}

TEST_P(Protocol, SecondHandshakeNeedsAnotherAck) {
  test_server srv{config()};
  auto c = ready(srv);
  auto id = c->request("probe.echo", "working");
  EXPECT_EQ(c->response(id)->payload, "working");
  c->send_packet(codec::packet_type::handshake, "{}");
  c->request("probe.echo", "too early");
  EXPECT_TRUE(c->closed_by_server());
}

TEST_P(Protocol, AckWithoutHandshakeClosesTheConnection) {
  test_server srv{config()};
  auto c = connect(srv);
  c->send_packet(codec::packet_type::handshake_ack);
  EXPECT_TRUE(c->closed_by_server());
}

TEST_P(Protocol, EmptyHandshakeLikeNanosGoClient) {
  test_server srv{config()};
  auto c = connect(srv);
  auto hs = json::parse(c->handshake_and_ack(""));
  EXPECT_EQ(hs["code"], 200);
  auto id = c->request("probe.echo", "ping");
  EXPECT_EQ(c->response(id)->payload, "ping");
}

TEST_P(Protocol, PipelinedRequestsAreAnsweredById) {
  test_server srv{config()};
  auto c = ready(srv);
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 200; ++i)
    ids.push_back(c->request("probe.json", json{{"i", i}}.dump()));
  for (int i = 0; i < 200; ++i) {
    auto m = c->response(ids[i]);
    ASSERT_TRUE(m) << "no response for request " << i;
    EXPECT_EQ(json::parse(m->payload)["i"], i);
  }
}

TEST_P(Protocol, TypedArgumentsAndReplies) {
  test_server srv{config()};
  auto c = ready(srv);
  auto id = c->request("probe.typed", R"({"x":1,"y":41})");
  EXPECT_EQ(body(c->response(id)), (json{{"x", 2}, {"y", 42}}));
}

TEST_P(Protocol, ProtobufArgumentsUnderTheJsonSerializer) {
  test_server srv{config()}; // JSON serializer: protobuf messages use protobuf's JSON mapping
  auto c = ready(srv);
  auto id = c->request("probe.proto", R"({"name":"a","content":"hi"})");
  auto m = c->response(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, R"({"name":"a!","content":"hi"})"); // Go's field order, as nano
  auto bad = c->request("probe.proto", R"({"name":5})");
  EXPECT_EQ(body(c->response(bad))["code"], 400);
}

TEST_P(Protocol, ProtobufSerializerSendsBinary) {
  auto cfg = config();
  cfg.runtime.serializer = serializer_kind::protobuf;
  test_server srv{cfg};
  auto c = ready(srv);
  nanocaf::chat::UserMessage msg;
  msg.set_name("bin");
  msg.set_content("ary");
  auto id = c->request("probe.proto", msg.SerializeAsString());
  auto m = c->response(id);
  ASSERT_TRUE(m);
  nanocaf::chat::UserMessage back;
  ASSERT_TRUE(back.ParseFromString(m->payload));
  EXPECT_EQ(back.name(), "bin!");
  EXPECT_EQ(back.content(), "ary");
  auto bad = c->request("probe.proto", "\xff\xff\xff");
  EXPECT_EQ(body(c->response(bad))["code"], 400); // error replies stay JSON
  auto raw = c->request("probe.echo", "raw bytes pass through");
  EXPECT_EQ(c->response(raw)->payload, "raw bytes pass through");
}

TEST_P(Protocol, NotifyRunsTheHandlerWithoutReply) {
  test_server srv{config()};
  auto c = ready(srv);
  for (int i = 0; i < 5; ++i)
    c->notify("probe.count", "");
  // Per-session order: the stats request is handled after the five notifies.
  auto id = c->request("probe.stats", "");
  auto m = c->response(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(json::parse(m->payload)["notifies"], 5);
  EXPECT_FALSE(c->next_message(200ms)); // nothing else was sent
}

TEST_P(Protocol, PushesReachTheClientInOrder) {
  test_server srv{config()};
  auto c = ready(srv);
  auto id = c->request("probe.push", R"({"n":10})");
  for (int i = 0; i < 10; ++i) {
    auto m = c->next_message();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, codec::message_type::push);
    EXPECT_EQ(m->route, "onPush");
    EXPECT_EQ(json::parse(m->payload)["i"], i);
  }
  EXPECT_TRUE(c->response(id));
}

TEST_P(Protocol, LateResponseToAGivenId) {
  test_server srv{config()};
  auto c = ready(srv);
  auto late = c->request("probe.later", "");
  auto now = c->request("probe.echo", "now");
  auto first = c->next_message();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, now);
  EXPECT_EQ(body(c->response(late)), (json{{"late", true}}));
}

TEST_P(Protocol, ErrorRepliesForUnknownRouteBadPayloadAndFailingHandlers) {
  test_server srv{config()};
  auto c = ready(srv);
  auto unknown = c->request("probe.nothing", "{}");
  auto no_dot = c->request("nodot", "{}");
  auto bad = c->request("probe.typed", "not json");
  auto wrong_type = c->request("probe.typed", R"({"x":"one"})");
  auto fail = c->request("probe.fail", "");
  auto deny = c->request("probe.deny", "");
  auto r = body(c->response(unknown));
  EXPECT_EQ(r["code"], 404);
  EXPECT_EQ(r["error"], "route not found: probe.nothing");
  EXPECT_EQ(body(c->response(no_dot))["code"], 404);
  EXPECT_EQ(body(c->response(bad))["code"], 400);
  EXPECT_EQ(body(c->response(wrong_type))["code"], 400);
  r = body(c->response(fail));
  EXPECT_EQ(r["code"], 500);
  // The exception's text stays on the server, in the log line that carries the same id.
  EXPECT_EQ(r["error"], "internal error");
  ASSERT_TRUE(r.contains("id") && r["id"].is_string());
  EXPECT_EQ(r["id"].get<std::string>().size(), 16u);
  EXPECT_EQ(r.dump().find("boom"), std::string::npos);
  r = body(c->response(deny));
  EXPECT_EQ(r["code"], 403);
  EXPECT_EQ(r["error"], "denied");
  // The component survived its handler's exception.
  auto ok = c->request("probe.echo", "alive");
  EXPECT_EQ(c->response(ok)->payload, "alive");
}

TEST_P(Protocol, ErrorRepliesCanBeSwitchedOff) {
  auto cfg = config();
  cfg.runtime.error_replies = false;
  test_server srv{cfg};
  auto c = ready(srv);
  c->request("probe.nothing", "{}");
  c->request("probe.fail", "");
  auto ok = c->request("probe.echo", "x");
  auto m = c->next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, ok); // the two failures were silent, as in nano
}

TEST_P(Protocol, KickSendsReasonThenCloses) {
  test_server srv{config()};
  auto c = ready(srv);
  c->request("probe.kick", "");
  std::optional<codec::packet> p;
  do {
    p = c->next_packet();
  } while (p && p->type == codec::packet_type::heartbeat);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, codec::packet_type::kick);
  EXPECT_EQ(json::parse(p->body), (json{{"reason", "bye"}}));
  EXPECT_TRUE(c->closed_by_server());
}

TEST_P(Protocol, SessionCloseFromHandler) {
  test_server srv{config()};
  auto c = ready(srv);
  c->request("probe.close", "");
  EXPECT_TRUE(c->closed_by_server());
}

TEST_P(Protocol, WhatAHandlerSentBeforeClosingItsSessionArrivesFirst) {
  test_server srv{config()};
  auto leaving = ready(srv), staying = ready(srv);
  for (auto* c : {leaving.get(), staying.get()})
    ASSERT_TRUE(c->response(c->request("probe.join", "")));
  leaving->request("probe.farewell", "");
  EXPECT_TRUE(leaving->push("onFarewell")); // held until the handler's end, written at close
  EXPECT_TRUE(leaving->closed_by_server());
  EXPECT_TRUE(staying->push("onFarewell"));
}

TEST_P(Protocol, AHandlersBigBurstIsWrittenAsItGoesNotHeldPastTheBound) {
  // 1.5 MB in 50 broadcasts from one handler to a client that reads: held back whole, it
  // would pass the 1 MiB bound and the client would be closed as a slow reader.
  burst_to_one_member(1u << 20, 50, 30000, 0ms);
}

TEST_P(Protocol, HeldPushesWrittenInPartToALateReaderArriveWholeAndInOrder) {
  // 9 MB to a client that reads only later, more than the kernel's buffers take (a send
  // buffer grows to 4 MB here): a write of what is held is cut in the middle of a packet,
  // and the rest waits in the queue.
  burst_to_one_member(64u << 20, 300, 30000, 300ms);
}

TEST_P(Protocol, SessionDataAndBind) {
  test_server srv{config()};
  auto c = ready(srv);
  c->request("probe.set", R"({"k":"room","v":"r1"})");
  auto get = c->request("probe.get", R"({"k":"room"})");
  // Exact-type getters: a string read as int gives 0.
  EXPECT_EQ(body(c->response(get)), (json{{"has", true}, {"v", "r1"}, {"as_int", 0}}));
  auto bad = c->request("probe.bind", R"({"uid":0})");
  EXPECT_EQ(body(c->response(bad))["code"], static_cast<int>(errc::illegal_uid));
  auto good = c->request("probe.bind", R"({"uid":77})");
  EXPECT_EQ(body(c->response(good))["uid"], 77);
}

TEST_P(Protocol, ClosedCallbacksRunOnceForEveryDisconnect) {
  test_server srv{config()};
  auto watcher = ready(srv);
  for (int i = 0; i < 3; ++i) {
    auto c = ready(srv);
    auto id = c->request("probe.watch", "");
    ASSERT_TRUE(c->response(id));
  }
  auto& p = srv.probe_component();
  for (int i = 0; i < 300 && (p.sessions_closed < 3 || p.session_callbacks < 3); ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(p.sessions_closed.load(), 3);
  EXPECT_EQ(p.session_callbacks.load(), 3);
  EXPECT_EQ(srv.rt().live_sessions(), 1u);
}

TEST_P(Protocol, BroadcastReachesEveryMember) {
  test_server srv{config()};
  std::vector<std::unique_ptr<test_client>> clients;
  for (int i = 0; i < 25; ++i) {
    clients.push_back(ready(srv));
    auto id = clients.back()->request("probe.join", "");
    ASSERT_TRUE(clients.back()->response(id));
  }
  auto id = clients[0]->request("probe.broadcast", R"({"seq":1})");
  for (auto& c : clients) {
    auto m = c->push("onBroadcast");
    ASSERT_TRUE(m);
    EXPECT_EQ(json::parse(m->payload)["seq"], 1);
  }
  EXPECT_TRUE(clients[0]->response(id));
  // A member that left is not reached; the others still are.
  clients.back().reset();
  for (int i = 0; i < 300 && srv.probe_component().members.count() != 24; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(srv.probe_component().members.count(), 24u);
}

TEST_P(Protocol, ServerSendsHeartbeatsAndDropsSilentClients) {
  auto cfg = config();
  cfg.runtime.heartbeat = std::chrono::milliseconds(200);
  test_server srv{cfg};
  auto c = ready(srv);
  auto start = std::chrono::steady_clock::now();
  auto p = c->next_packet(1s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, codec::packet_type::heartbeat);
  // Silent since the ack: dropped once more than 2H passed, at a heartbeat tick (<= 3H + slack).
  EXPECT_TRUE(c->closed_by_server(2s));
  auto lived = std::chrono::steady_clock::now() - start;
  EXPECT_GE(lived, 390ms);
  EXPECT_LE(lived, 1200ms);
}

TEST_P(Protocol, ClientHeartbeatsKeepTheSessionAlive) {
  auto cfg = config();
  cfg.runtime.heartbeat = std::chrono::milliseconds(150);
  test_server srv{cfg};
  auto c = ready(srv);
  int beats = 0;
  auto until = std::chrono::steady_clock::now() + 1200ms;
  while (std::chrono::steady_clock::now() < until) {
    auto p = c->next_packet(400ms);
    ASSERT_TRUE(p) << "connection dropped although the client answered heartbeats";
    if (p->type == codec::packet_type::heartbeat) {
      ++beats;
      c->send_packet(codec::packet_type::heartbeat); // like the JS client: answer each one
    }
  }
  EXPECT_GE(beats, 5);
}

TEST_P(Protocol, HandshakeTimeout) {
  auto cfg = config();
  cfg.runtime.handshake_timeout = std::chrono::milliseconds(200);
  test_server srv{cfg};
  auto c = connect(srv);
  EXPECT_TRUE(c->closed_by_server(2s));
}

TEST_P(Protocol, ValidatorRefusesWithoutReply) {
  auto cfg = config();
  cfg.runtime.validator = [](const session& s, std::string_view raw) -> std::optional<std::string> {
    auto j = json::parse(raw, nullptr, false);
    if (j.is_discarded() || j["user"]["token"] != "secret")
      return "bad token";
    s.set("token", std::string{"ok"});
    return std::nullopt;
  };
  test_server srv{cfg};
  auto bad = connect(srv);
  bad->send_packet(codec::packet_type::handshake, R"({"user":{"token":"nope"}})");
  EXPECT_FALSE(bad->next_packet(300ms).has_value());
  EXPECT_TRUE(bad->closed_by_server());
  auto good = connect(srv);
  good->handshake_and_ack(R"({"user":{"token":"secret"}})");
  auto id = good->request("probe.get", R"({"k":"token"})");
  EXPECT_EQ(body(good->response(id))["v"], "ok");
}

TEST_P(Protocol, ReadyMadeValidatorsCheckVersionAndToken) {
  auto cfg = config();
  cfg.runtime.validator = all_of({
    require_client_version("1.2.0"),
    require_token([](const session& s, const std::string& token) {
      if (token.rfind("player-", 0) != 0)
        return false;
      s.set("player", token.substr(7));
      return true;
    }),
  });
  test_server srv{cfg};
  auto refused = [&](const std::string& handshake) {
    auto c = connect(srv);
    c->send_packet(codec::packet_type::handshake, handshake);
    return !c->next_packet(300ms).has_value() && c->closed_by_server();
  };
  EXPECT_TRUE(refused(R"({"sys":{"version":"1.1.9"},"user":{"token":"player-ann"}})"));
  EXPECT_TRUE(refused(R"({"sys":{},"user":{"token":"player-ann"}})"));
  EXPECT_TRUE(refused(""));  // nano's Go client sends an empty handshake
  EXPECT_TRUE(refused(R"({"sys":{"version":"1.10"},"user":{"token":"guest"}})"));
  EXPECT_TRUE(refused(R"({"sys":{"version":"2.0"},"user":{}})"));
  auto good = connect(srv);
  good->handshake_and_ack(R"({"sys":{"version":"1.10"},"user":{"token":"player-ann"}})");
  auto id = good->request("probe.get", R"({"k":"player"})");
  EXPECT_EQ(body(good->response(id))["v"], "ann");
}

TEST(Validators, VersionsCompareNumericallyPartByPart) {
  EXPECT_EQ(compare_versions("1.10", "1.9"), 1);
  EXPECT_EQ(compare_versions("1.2", "1.2.0"), 0);
  EXPECT_EQ(compare_versions("0.9.9", "1"), -1);
  EXPECT_EQ(compare_versions("2.x", "2.0"), 0);
}

TEST_P(Protocol, SlowReaderIsClosedAtTheBoundOthersUnaffected) {
  auto cfg = config();
  cfg.gateway.write_queue_limit = 1u << 20;
  test_server srv{cfg};
  auto healthy = ready(srv);
  auto slow = ready(srv);
  // 400 pushes of 60 KB = 24 MB, far more than socket buffers plus the 1 MiB bound.
  slow->request("probe.flood", R"({"n":400,"size":60000})");
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    std::this_thread::sleep_for(20ms);
    closed = srv.gate().connections() == 1;
  }
  EXPECT_TRUE(closed) << "a client that does not read must be closed at the bound";
  auto id = healthy->request("probe.echo", "still here");
  EXPECT_EQ(healthy->response(id)->payload, "still here");
}

TEST_P(Protocol, ClientOverTheRateLimitIsKickedWithAReason) {
  auto cfg = config();
  cfg.runtime.rate_limit = 50;
  cfg.runtime.rate_burst = 100;
  test_server srv{cfg};
  auto polite = ready(srv);
  auto flood = ready(srv);
  std::string burst;
  for (int i = 0; i < 300; ++i)
    codec::encode_data_packet(codec::message_type::notify, 0, "probe.count", "", nullptr, burst);
  flood->send_raw(burst);
  std::optional<codec::packet> p;
  do {
    p = flood->next_packet();
  } while (p && p->type != codec::packet_type::kick);
  ASSERT_TRUE(p) << "no kick packet";
  EXPECT_EQ(json::parse(p->body), (json{{"reason", "rate limit exceeded"}}));
  EXPECT_TRUE(flood->closed_by_server());
  // Nothing after the bucket ran dry reached a handler.
  EXPECT_LE(srv.probe_component().notifies.load(), 100);
  // A client within its rate keeps going: 30 requests over 0.9 s.
  for (int i = 0; i < 30; ++i) {
    auto id = polite->request("probe.echo", "ok");
    ASSERT_TRUE(polite->response(id)) << "request " << i;
    std::this_thread::sleep_for(30ms);
  }
}

TEST_P(Protocol, FloodingClientIsClosedAtTheInflightBound) {
  auto cfg = config();
  cfg.runtime.max_inflight_bytes = 64 * 1024;
  test_server srv{cfg};
  auto healthy = ready(srv);
  auto flood = ready(srv);
  std::string blob(1024, 'x');
  std::string burst;
  for (int i = 0; i < 1000; ++i) // 1 MB of notifies for a handler doing 2 ms each
    codec::encode_data_packet(codec::message_type::notify, 0, "probe.slow", blob, nullptr, burst);
  try {
    for (std::size_t off = 0; off < burst.size(); off += 60000)
      flood->send_raw(burst.substr(off, 60000));
  } catch (const std::runtime_error&) {
    // the server may close the flooding connection while we are still sending: that is the point
  }
  EXPECT_TRUE(flood->closed_by_server(5s));
  auto id = healthy->request("probe.echo", "unaffected");
  auto m = healthy->response(id, 10s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "unaffected");
}

TEST(Gateway, ConnectionsGetAStrandOnlyWhenSeveralAsioThreadsRun) {
  boost::asio::io_context ioc;
  using strand = boost::asio::strand<boost::asio::io_context::executor_type>;
  using plain = boost::asio::io_context::executor_type;
  // (Boost 1.74's any_executor::target<T>() does not check T: compare the types.)
  EXPECT_EQ(detail::make_serial_executor(ioc, 3).target_type(), typeid(strand));
  EXPECT_EQ(detail::make_serial_executor(ioc, 1).target_type(), typeid(plain));
  EXPECT_EQ(detail::make_serial_executor(ioc, 0).target_type(), typeid(plain)); // 0 runs as 1
}

TEST(Gateway, SeveralAsioThreadsKeepEveryClientsOrder) {
  // With more than one Asio thread each connection runs on a strand (one thread uses the
  // io_context's executor): replies and pushes must still leave in order, complete, for
  // every client at once.
  server_config cfg;
  cfg.gateway.io_threads = 3;
  test_server srv{cfg};
  std::vector<std::unique_ptr<test_client>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(i % 2 ? test_client::connect_ws(srv.ws_port())
                            : test_client::connect_tcp(srv.tcp_port()));
    clients.back()->handshake_and_ack();
  }
  std::vector<std::vector<std::uint64_t>> ids(clients.size());
  for (int round = 0; round < 100; ++round)
    for (std::size_t c = 0; c < clients.size(); ++c)
      ids[c].push_back(clients[c]->request("probe.json", json{{"i", round}}.dump()));
  std::vector<std::uint64_t> push_ids;
  for (auto& c : clients)
    push_ids.push_back(c->request("probe.push", R"({"n":50})"));
  for (std::size_t c = 0; c < clients.size(); ++c) {
    for (int round = 0; round < 100; ++round) {
      auto m = clients[c]->next_message();
      ASSERT_TRUE(m) << "client " << c << " request " << round;
      EXPECT_EQ(m->type, codec::message_type::response);
      EXPECT_EQ(m->id, ids[c][round]) << "client " << c << ": replies out of order";
    }
    for (int i = 0; i < 50; ++i) {
      auto m = clients[c]->next_message();
      ASSERT_TRUE(m) << "client " << c << " push " << i;
      EXPECT_EQ(m->route, "onPush");
      EXPECT_EQ(json::parse(m->payload)["i"], i) << "client " << c << ": pushes out of order";
    }
    EXPECT_TRUE(clients[c]->response(push_ids[c]));
  }
}

// Descriptors this process watches level-triggered for reading, in any epoll set (from
// /proc/self/fdinfo). Asio's reactor registers sockets edge-triggered; the gateway's poller
// (one Asio thread) registers its clients level-triggered.
int level_triggered_readers() {
  int count = 0;
  for (auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
    std::ifstream info(entry.path());
    for (std::string line; std::getline(info, line);) {
      if (line.rfind("tfd:", 0) != 0)
        continue;
      std::istringstream fields(line);
      std::string tag, fd, events_tag, events;
      fields >> tag >> fd >> events_tag >> events;
      auto mask = std::stoul(events, nullptr, 16);
      if ((mask & EPOLLIN) != 0 && (mask & EPOLLET) == 0)
        ++count;
    }
  }
  return count;
}

TEST(Gateway, OneAsioThreadWatchesPlainClientsInItsOwnEpollSet) {
  for (std::size_t threads : {1u, 2u}) {
    server_config cfg;
    cfg.gateway.io_threads = threads;
    test_server srv{cfg};
    int before = level_triggered_readers();
    auto a = test_client::connect_tcp(srv.tcp_port());
    a->handshake_and_ack();
    auto b = test_client::connect_tcp(srv.tcp_port());
    b->handshake_and_ack();
    auto c = test_client::connect_ws(srv.ws_port());
    c->handshake_and_ack();
    EXPECT_EQ(level_triggered_readers() - before, threads == 1 ? 3 : 0)
      << threads << " Asio thread(s)";
    EXPECT_TRUE(c->response(c->request("probe.echo", "ok")));
  }
}

TEST(Gateway, ConnectionLimitRefusesExtraClients) {
  server_config cfg;
  cfg.gateway.max_connections = 2;
  test_server srv{cfg};
  auto a = test_client::connect_tcp(srv.tcp_port());
  a->handshake_and_ack();
  auto b = test_client::connect_tcp(srv.tcp_port());
  b->handshake_and_ack();
  auto c = test_client::connect_tcp(srv.tcp_port());
  EXPECT_TRUE(c->closed_by_server());
  auto id = a->request("probe.echo", "ok");
  EXPECT_TRUE(a->response(id));
}

TEST(Gateway, OutOfDescriptorsPausesAcceptingInsteadOfSpinning) {
  test_server srv;
  auto a = test_client::connect_tcp(srv.tcp_port());
  a->handshake_and_ack();
  // Leave this process exactly one free descriptor: the client's socket takes it, so the
  // server's accept fails with EMFILE while the connection waits in the backlog.
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  int highest = 0;
  for (int fd = 0; fd < 4096; ++fd)
    if (::fcntl(fd, F_GETFD) != -1)
      highest = fd;
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(highest + 8);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  std::vector<int> fillers; // take every free descriptor, then give one back
  for (int fd; (fd = ::open("/dev/null", O_RDONLY)) != -1;)
    fillers.push_back(fd);
  ASSERT_FALSE(fillers.empty());
  ::close(fillers.back());
  fillers.pop_back();
  std::unique_ptr<test_client> b;
  try {
    b = test_client::connect_tcp(srv.tcp_port());
  } catch (const std::exception&) {
  }
  rusage before{}, after{};
  ::getrusage(RUSAGE_SELF, &before);
  std::this_thread::sleep_for(500ms);
  ::getrusage(RUSAGE_SELF, &after);
  for (int fd : fillers)
    ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(b) << "the client could not even make its socket";
  auto cpu_ms = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000.0
           + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0;
  };
  // A spinning accept loop burns the whole half second; a paused one next to nothing.
  EXPECT_LT(cpu_ms(after) - cpu_ms(before), 200.0);
  // Descriptors are back: the waiting client is accepted, and the first one was served all along.
  b->handshake_and_ack();
  auto id = b->request("probe.echo", "accepted");
  EXPECT_TRUE(b->response(id, 5s));
  id = a->request("probe.echo", "still");
  EXPECT_TRUE(a->response(id));
}

// Under the io policy actors run on the Asio thread, which stop() would have to join.
TEST(Gateway, StopFromItsOwnAsioThreadIsRefusedAndServingGoesOn) {
  server_config cfg;
  cfg.runtime.scheduler_policy = "io";
  test_server srv{cfg};
  std::atomic<int> refused{0};
  std::atomic<int> tries{0};
  // Right after start the probe's actor is often still in its last job on a worker (the
  // lifecycle's), which then takes this message too; only a run on the Asio thread calls stop().
  for (int i = 0; i < 100 && refused.load() == 0; ++i) {
    ASSERT_TRUE(srv.rt().invoke("probe", [&] {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof(name));
      if (std::string{name} == "nanocaf.io") {
        try {
          srv.gate().stop();
        } catch (const std::logic_error&) {
          ++refused;
        }
      }
      ++tries;
    }));
    ASSERT_TRUE(wait_for(tries, i + 1));
  }
  ASSERT_EQ(refused.load(), 1) << tries.load() << " tries";
  auto c = test_client::connect_tcp(srv.tcp_port());
  c->handshake_and_ack();
  EXPECT_TRUE(c->response(c->request("probe.echo", "still here")));
}

TEST(Gateway, StopKicksClientsWithReason) {
  auto srv = std::make_unique<test_server>();
  auto c = test_client::connect_ws(srv->ws_port());
  c->handshake_and_ack();
  std::optional<codec::packet> p;
  std::thread reader{[&] {
    do {
      p = c->next_packet();
    } while (p && p->type != codec::packet_type::kick);
  }};
  srv.reset(); // on the thread that created it (see runtime's destructor)
  reader.join();
  ASSERT_TRUE(p);
  EXPECT_EQ(json::parse(p->body)["reason"], "server shutdown");
}

} // namespace
