// The cluster with real processes and real gRPC on 127.0.0.1: registration tables, traffic
// through a gate to backends and back, chained calls, session close propagation, and node
// faults (SIGKILL of a backend or a gate, a master restart, two dead members at once).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include <grpcpp/grpcpp.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "cluster_fixture.hpp"
#include "detail/inbound.hpp"
#include "detail/peer.hpp"
#include "nanocaf/proto/cluster.grpc.pb.h"
#include "support/http_get.hpp"
#include "support/test_client.hpp"
#include "support/test_server.hpp"

using namespace nanocaf;
using namespace nanocaf::test;
using json = nlohmann::json;

namespace {

TEST_F(Cluster, RegistrationTablesAsNano) {
  // spec 7.3: master, then member1 (gate), then member2, each with one component.
  std::uint16_t tcp = free_port();
  auto master = start("MasterComponent", true);
  auto gate = start("GateComponent", false, tcp);
  auto game = start("GameComponent");
  auto c = client(tcp);
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"GameComponent", "MasterComponent"}));
  EXPECT_TRUE(sees(*c, "GameComponent.members", {"GateComponent", "MasterComponent"}));
  EXPECT_TRUE(sees(*c, "MasterComponent.members", {"GameComponent", "GateComponent"}));
}

TEST_F(Cluster, RequestNotifyPushAndResponseThroughTheGate) {
  auto t = start_trio();
  serve_through_the_gate(*t.client);
}

// Every node's actors on its Asio thread where it has one (the gate), on its workers where it
// has none: what auto picks for nodes pinned to one core each.
TEST_F(Cluster, NodesUnderTheIoSchedulerPolicyServeThroughTheGate) {
  node_args = {"--scheduler", "io"};
  auto t = start_trio();
  serve_through_the_gate(*t.client);
  EXPECT_NE(t.gate->log().find("actors run on the Asio thread"), std::string::npos);
  EXPECT_EQ(t.game->log().find("actors run on the Asio thread"), std::string::npos);
}

TEST_F(Cluster, ChainedCallRepliesStraightToTheGate) {
  auto t = start_trio();
  auto& c = t.client;
  // gate -> game (chain) -> master (pushback) -> straight to the gate's client.
  c->notify("GameComponent.chain", R"({"route":"MasterComponent.pushback","body":{"v":7}})");
  auto p = c->push("onChained");
  ASSERT_TRUE(p);
  EXPECT_EQ(json::parse(p->payload)["v"], 7);
}

TEST_F(Cluster, BackendBroadcastReachesClientsOfTwoGates) {
  std::uint16_t tcp1 = free_port(), tcp2 = free_port();
  auto master = start("MasterComponent", true);
  auto game = start("GameComponent");
  auto gate1 = start("GateComponent", false, tcp1);
  auto gate2 = start("EdgeComponent", false, tcp2);
  auto a = client(tcp1);
  auto b = client(tcp2);
  ASSERT_TRUE(sees(*a, "GateComponent.members", {"EdgeComponent", "GameComponent", "MasterComponent"}));
  ASSERT_TRUE(sees(*b, "EdgeComponent.members", {"GameComponent", "GateComponent", "MasterComponent"}));
  ASSERT_TRUE(call(*a, "GameComponent.join", ""));
  ASSERT_TRUE(call(*b, "GameComponent.join", ""));
  ASSERT_TRUE(call(*a, "GameComponent.broadcast", R"({"seq":1})"));
  for (auto* c : {a.get(), b.get()}) {
    auto p = c->push("onBroadcast");
    ASSERT_TRUE(p);
    EXPECT_EQ(json::parse(p->payload)["seq"], 1);
  }
}

TEST_F(Cluster, RequestReplyCallsBetweenNodes) {
  auto t = start_trio();
  auto& c = t.client;
  // gate's handler calls game and gets game's return value back.
  auto r = call(*c, "GateComponent.ask", R"({"route":"GameComponent.echo","body":"ping"})");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["code"], 0);
  EXPECT_EQ((*r)["data"], R"("ping")");
  r = call(*c, "GateComponent.ask", R"({"route":"Nobody.echo","body":1})");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["code"], 404);
  r = call(*c, "GateComponent.ask", R"({"route":"GameComponent.never","body":1})");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["code"], 504);
  r = call(*c, "GateComponent.ask", R"({"route":"GameComponent.bind","body":{"uid":0}})");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["code"], 0);
  // On behalf of the client: the called handler's pushes reach it, the reply the caller.
  r = call(*c, "GateComponent.ask", R"({"route":"GameComponent.push","body":{"n":2},"for_client":true})");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["data"], R"({"code":0})");
  EXPECT_TRUE(c->push("onPush"));
  EXPECT_TRUE(c->push("onPush"));
}

TEST_F(Cluster, BackendCloseClosesTheClient) {
  auto t = start_trio();
  auto& c = t.client;
  c->request("GameComponent.close", "");
  EXPECT_TRUE(c->closed_by_server());
}

TEST_F(Cluster, BackendKickAndBindReachTheGate) {
  auto t = start_trio();
  auto& c = t.client;
  ASSERT_TRUE(call(*c, "GameComponent.bind", R"({"uid":77})"));
  EXPECT_TRUE(eventually([&] {
    auto me = call(*c, "GateComponent.whoami", "");
    return me && (*me)["uid"] == 77; // bound on the backend, seen on the gate
  }));
  c->request("GameComponent.kick", "");
  std::optional<codec::packet> p;
  do {
    p = c->next_packet();
  } while (p && p->type != codec::packet_type::kick);
  ASSERT_TRUE(p);
  EXPECT_EQ(json::parse(p->body)["reason"], "from a backend");
  EXPECT_TRUE(c->closed_by_server());
}

TEST_F(Cluster, ClientDisconnectFreesRemoteSessionsEverywhere) {
  std::uint16_t tcp = free_port();
  auto master = start("MasterComponent", true);
  auto game = start("GameComponent");
  auto gate = start("GateComponent", false, tcp);
  auto watcher = client(tcp);
  ASSERT_TRUE(sees(*watcher, "GateComponent.members", {"GameComponent", "MasterComponent"}));
  {
    auto leaving = client(tcp);
    ASSERT_TRUE(call(*leaving, "GameComponent.echo", R"("hi")"));
    ASSERT_TRUE(call(*leaving, "MasterComponent.echo", R"("hi")"));
    auto r = call(*watcher, "GameComponent.members", "");
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["remote_sessions"], 2); // the watcher's and the leaving client's
  }
  EXPECT_TRUE(eventually([&] {
    auto g = call(*watcher, "GameComponent.members", "");
    auto m = call(*watcher, "MasterComponent.members", "");
    return g && m && (*g)["remote_sessions"] == 1 && (*m)["remote_sessions"] == 1;
  })) << "remote sessions of a disconnected client must be freed on every node";
}

TEST_F(Cluster, KilledBackendIsEvictedAndPendingRequestsGetErrors) {
  auto t = start_trio();
  auto& c = t.client;
  auto pending = c->request("GameComponent.never", "");
  ASSERT_TRUE(call(*c, "GameComponent.echo", R"("ok")")); // the session is bound to game
  auto killed_at = std::chrono::steady_clock::now();
  t.game->kill_now();
  auto m = c->response(pending, 6s);
  ASSERT_TRUE(m) << "a request pending on a dead node must get an error reply";
  EXPECT_EQ(json::parse(m->payload)["code"], 503);
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 4s); // eviction: 6 x 0.25 s + a tick
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"MasterComponent"}));
  auto after = call(*c, "GameComponent.echo", "");
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)["code"], 404);
}

TEST_F(Cluster, KilledBackendUnderLoadLeavesNoRequestUnanswered) {
  auto t = start_trio();
  auto& c = t.client;
  // A burst of requests on the backend, half of them answered only 400 ms later.
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 200; ++i)
    ids.push_back(c->request(i % 2 ? "GameComponent.later" : "GameComponent.echo",
                             i % 2 ? R"({"ms":400})" : R"("x")"));
  std::this_thread::sleep_for(100ms);
  auto killed_at = std::chrono::steady_clock::now();
  t.game->kill_now();
  int answered = 0, failed = 0;
  for (auto id : ids) {
    auto m = c->response(id, 8s);
    ASSERT_TRUE(m) << "request " << id << " was never answered";
    auto body = json::parse(m->payload, nullptr, false);
    if (body.is_object() && body.contains("code") && body["code"] != 0)
      ++failed;
    else
      ++answered;
  }
  EXPECT_EQ(answered + failed, 200);
  EXPECT_GT(failed, 0); // the slow ones were cut off by the kill, with an error reply
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 5s);
  // Nothing is left of the dead node: no route on the gate or the master.
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"MasterComponent"}));
  EXPECT_TRUE(sees(*c, "MasterComponent.members", {"GateComponent"}));
  auto r = call(*c, "GameComponent.echo", "");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["code"], 404);
}

TEST_F(Cluster, KilledGateMakesBackendsFreeItsSessions) {
  std::uint16_t tcp1 = free_port(), tcp2 = free_port();
  auto master = start("MasterComponent", true);
  auto game = start("GameComponent");
  auto gate1 = start("GateComponent", false, tcp1);
  auto gate2 = start("EdgeComponent", false, tcp2);
  auto watcher = client(tcp1);
  ASSERT_TRUE(sees(*watcher, "GateComponent.members", {"EdgeComponent", "GameComponent", "MasterComponent"}));
  auto doomed = client(tcp2);
  ASSERT_TRUE(sees(*doomed, "EdgeComponent.members", {"GameComponent", "GateComponent", "MasterComponent"}));
  ASSERT_TRUE(call(*doomed, "GameComponent.echo", R"("x")"));
  auto r = call(*watcher, "GameComponent.members", "");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["remote_sessions"], 2);
  gate2->kill_now();
  EXPECT_TRUE(eventually([&] {
    auto g = call(*watcher, "GameComponent.members", "");
    return g && (*g)["remote_sessions"] == 1;
  }));
}

TEST_F(Cluster, MemberRestartedOnTheSameAddressReplacesItsOldRecord) {
  std::uint16_t tcp = free_port(), game_port = free_port();
  auto master = start("MasterComponent", true);
  auto game = start("GameComponent", false, 0, game_port);
  auto gate = start("GateComponent", false, tcp);
  auto c = client(tcp);
  ASSERT_TRUE(sees(*c, "GateComponent.members", {"GameComponent", "MasterComponent"}));
  auto pending = c->request("GameComponent.never", "");
  game->kill_now();
  game = start("GameComponent", false, 0, game_port); // back before it could be evicted
  auto m = c->response(pending, 5s);
  ASSERT_TRUE(m) << "requests pending on the old process must be answered";
  EXPECT_EQ(json::parse(m->payload)["code"], 503);
  // One entry, not two; and the new process answers. (The master replaces the record with a
  // DelMember and a NewMember: between the two the gate briefly has no GameComponent, so the
  // first look may come too early.)
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"GameComponent", "MasterComponent"}));
  EXPECT_TRUE(sees(*c, "MasterComponent.members", {"GameComponent", "GateComponent"}));
  EXPECT_TRUE(eventually([&] {
    auto r = call(*c, "GameComponent.echo", R"("again")");
    return r && *r == "again";
  }));
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"GameComponent", "MasterComponent"}));
}

TEST_F(Cluster, MasterRestartMembersRejoinAndTrafficGoesOn) {
  auto t = start_trio();
  auto& c = t.client;
  t.master->kill_now();
  // Node-to-node traffic does not need the master.
  auto during = call(*c, "GameComponent.echo", R"("still")");
  ASSERT_TRUE(during);
  EXPECT_EQ(*during, "still");
  t.master = start("MasterComponent", true);
  // The new master learns the members from their heartbeats; a newcomer sees them all.
  auto late = start("LateComponent");
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"GameComponent", "LateComponent", "MasterComponent"}));
  EXPECT_TRUE(sees(*c, "LateComponent.members", {"GameComponent", "GateComponent", "MasterComponent"}));
  auto r = call(*c, "LateComponent.echo", R"("new")");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "new");
}

TEST_F(Cluster, TwoDeadMembersDoNotBlockANewRegistration) {
  std::uint16_t tcp = free_port();
  auto master = start("MasterComponent", true);
  auto gate = start("GateComponent", false, tcp);
  auto a = start("AComponent");
  auto b = start("BComponent");
  auto c = client(tcp);
  ASSERT_TRUE(sees(*c, "GateComponent.members", {"AComponent", "BComponent", "MasterComponent"}));
  a->signal(SIGSTOP); // hung, not gone: calls to them time out
  b->signal(SIGSTOP);
  auto late = start("LateComponent");
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"LateComponent", "MasterComponent"}))
    << "the stopped members must be evicted and the newcomer registered";
  auto r = call(*c, "LateComponent.echo", R"("in")");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "in");
}

TEST_F(Cluster, StoppedMemberIsEvictedThenRejoinsOnSigcont) {
  auto t = start_trio();
  auto& c = t.client;
  t.game->signal(SIGSTOP); // hung: suspected by its silence, then evicted
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"MasterComponent"}));
  t.game->signal(SIGCONT); // its next heartbeat makes the master take it back
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"GameComponent", "MasterComponent"}));
  EXPECT_TRUE(sees(*c, "GameComponent.members", {"GateComponent", "MasterComponent"}));
  auto r = call(*c, "GameComponent.echo", R"("back")");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "back");
}

TEST_F(Cluster, SigtermOnAGateKicksItsClientsAndLeaves) {
  auto t = start_trio();
  std::uint16_t tcp2 = free_port();
  auto gate2 = start("OtherGateComponent", false, tcp2);
  auto other = client(tcp2);
  ASSERT_TRUE(sees(*other, "OtherGateComponent.members",
                   {"GameComponent", "GateComponent", "MasterComponent"}));
  ASSERT_TRUE(call(*t.client, "GameComponent.echo", R"("a")")); // sessions on the backend
  ASSERT_TRUE(call(*other, "GameComponent.echo", R"("b")"));
  t.gate->signal(SIGTERM);
  std::optional<codec::packet> p;
  do {
    p = t.client->next_packet(5s);
  } while (p && p->type != codec::packet_type::kick);
  ASSERT_TRUE(p) << "the gate's client got no kick";
  EXPECT_EQ(json::parse(p->body), (json{{"reason", "server shutdown"}}));
  EXPECT_TRUE(t.client->closed_by_server());
  EXPECT_TRUE(t.gate->exits_within(5s));
  // It unregistered, and the backend freed the session it held for the kicked client.
  EXPECT_TRUE(sees(*other, "OtherGateComponent.members", {"GameComponent", "MasterComponent"}));
  EXPECT_TRUE(eventually([&] {
    auto r = call(*other, "GameComponent.members", "");
    return r && (*r)["remote_sessions"] == 1;
  }));
}

TEST_F(Cluster, RequestsWaitingOnOtherNodesAreBoundedPerClient) {
  auto t = start_trio();
  std::string burst;
  for (std::uint64_t id = 1; id <= 1100; ++id) // the backend never answers these
    codec::encode_data_packet(codec::message_type::request, id, "GameComponent.never", "", nullptr,
                              burst);
  t.client->send_raw(burst);
  int refused = 0;
  while (auto m = t.client->next_message(3s)) {
    auto body = json::parse(m->payload, nullptr, false);
    if (body.is_object() && body["code"] == 429)
      ++refused;
    if (refused == 1100 - 1024)
      break;
  }
  EXPECT_EQ(refused, 1100 - 1024);
  // The node is fine, and so is another client.
  std::uint16_t tcp2 = free_port();
  auto gate2 = start("OtherGateComponent", false, tcp2);
  auto other = client(tcp2);
  ASSERT_TRUE(sees(*other, "OtherGateComponent.members",
                   {"GameComponent", "GateComponent", "MasterComponent"}));
  auto r = call(*other, "GameComponent.echo", R"("fine")");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "fine");
}

// A backend's failure reaches the client as a code, a generic text and an error id; the detail
// stays in the backend's log line with that id. Killed nodes give 503s without addresses.
TEST_F(Cluster, ClientsSeeNoInternalDetailInClusterErrors) {
  auto t = start_trio();
  auto r = json::parse(t.client->response(t.client->request("GameComponent.fail", ""))->payload);
  EXPECT_EQ(r["code"], 500);
  EXPECT_EQ(r["error"], "internal error");
  ASSERT_TRUE(r.contains("id"));
  EXPECT_EQ(r.dump().find("10.1.2.3"), std::string::npos);
  auto id = r["id"].get<std::string>();
  EXPECT_TRUE(eventually([&] {
    auto log = t.game->log();
    auto at = log.find(id);
    return at != std::string::npos && log.find("10.1.2.3", at) != std::string::npos;
  })) << t.game->log();
  t.game->kill_now();
  auto m = t.client->response(t.client->request("GameComponent.echo", R"("x")"), 5s);
  ASSERT_TRUE(m);
  auto dead = json::parse(m->payload);
  EXPECT_EQ(dead["code"], 503);
  EXPECT_EQ(dead["error"], "service unavailable");
  EXPECT_EQ(m->payload.find("127.0.0.1"), std::string::npos) << m->payload;
}

// A server-only handler on a backend: a client of the gate gets 404, a component on another
// node reaches it with a call.
TEST_F(Cluster, ServerOnlyHandlersAnswerCallsNotClients) {
  auto t = start_trio();
  auto r = json::parse(t.client->response(t.client->request("GameComponent.secret", "{}"))->payload);
  EXPECT_EQ(r["code"], 404);
  EXPECT_EQ(r["error"], "route not found: GameComponent.secret");
  auto asked = call(*t.client, "GateComponent.ask",
                    R"({"route":"GameComponent.secret","body":{"k":1}})");
  ASSERT_TRUE(asked);
  EXPECT_EQ((*asked)["code"], 0);
  EXPECT_EQ(json::parse((*asked)["data"].get<std::string>())["got"]["k"], 1);
}

// nano mode (error_replies = false) on the gate holds for failures on other nodes too, and
// the gate still counts them.
TEST_F(Cluster, NanoModeOnTheGateSilencesClusterErrors) {
  std::uint16_t tcp = free_port(), gate_metrics = free_port();
  auto master = start("MasterComponent", true);
  auto game = start("GameComponent", false);
  auto gate = start("GateComponent", false, tcp, 0,
                    {"--error-replies", "false", "--metrics", addr(gate_metrics)});
  auto c = client(tcp);
  ASSERT_TRUE(sees(*c, "GateComponent.members", {"GameComponent", "MasterComponent"}));
  c->request("GameComponent.fail", "");    // fails on the backend
  c->request("NoSuchComponent.echo", "");  // no node offers it
  auto ok = c->request("GameComponent.echo", R"("after")");
  auto m = c->next_message(5s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, ok); // the two failures were silent, as in nano
  EXPECT_TRUE(eventually([&] {
    return metric(gate_metrics, "nanocaf_error_replies_total{code=\"500\"}") == 1
           && metric(gate_metrics, "nanocaf_error_replies_total{code=\"404\"}") == 1;
  }));
}

// Go nano nodes send no secret: a cluster with them runs without one (--nano-cluster).
TEST_F(Cluster, GoStyleMemberIsJudgedByNanosHeartbeatPeriod) {
  node_args = {"--nano-cluster"};
  auto t = start_trio();
  // Register the way nano's Go member does: plain clusterpb, no nanocaf metadata.
  auto channel = grpc::CreateChannel(addr(master_port), grpc::InsecureChannelCredentials());
  auto stub = clusterpb::Master::NewStub(channel);
  clusterpb::RegisterRequest req;
  req.mutable_memberinfo()->set_serviceaddr(addr(free_port()));
  req.mutable_memberinfo()->set_label("go");
  req.mutable_memberinfo()->add_services("GoComponent");
  clusterpb::RegisterResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 3s);
  ASSERT_TRUE(stub->Register(&ctx, req, &resp).ok());
  std::vector<std::string> others;
  for (auto& m : resp.members())
    for (auto& svc : m.services())
      others.push_back(svc);
  std::sort(others.begin(), others.end());
  EXPECT_EQ(others, (std::vector<std::string>{"GameComponent", "GateComponent", "MasterComponent"}));
  ASSERT_TRUE(sees(*t.client, "GateComponent.members", {"GameComponent", "GoComponent", "MasterComponent"}));
  // nanocaf members here beat every 0.25 s and go after 6 silent periods (1.5 s); a Go node
  // beats every 30 s by default, so 2 s of silence must not evict it.
  std::this_thread::sleep_for(2500ms);
  auto r = call(*t.client, "GateComponent.members", "");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["services"], json({"GameComponent", "GoComponent", "MasterComponent"}));
  // Its graceful Unregister is nano's too.
  clusterpb::UnregisterRequest unreg;
  unreg.set_serviceaddr(req.memberinfo().serviceaddr());
  clusterpb::UnregisterResponse unreg_resp;
  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + 3s);
  ASSERT_TRUE(stub->Unregister(&ctx2, unreg, &unreg_resp).ok());
  EXPECT_TRUE(sees(*t.client, "GateComponent.members", {"GameComponent", "MasterComponent"}));
}

// A Go member that beats every 300 ms says nothing of its period: the master learns it from
// the beats and evicts it about 4 periods after the last one (it assumed 30 s, so 2 min).
TEST_F(Cluster, GoStyleMemberIsEvictedByThePeriodItsHeartbeatsShow) {
  node_args = {"--nano-cluster"};
  auto t = start_trio();
  auto stub = clusterpb::Master::NewStub(
    grpc::CreateChannel(addr(master_port), grpc::InsecureChannelCredentials()));
  clusterpb::MemberInfo info;
  info.set_serviceaddr(addr(free_port()));
  info.add_services("GoComponent");
  clusterpb::RegisterRequest reg;
  *reg.mutable_memberinfo() = info;
  clusterpb::RegisterResponse reg_resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 3s);
  ASSERT_TRUE(stub->Register(&ctx, reg, &reg_resp).ok());
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(300ms);
    clusterpb::HeartbeatRequest beat;
    *beat.mutable_memberinfo() = info;
    clusterpb::HeartbeatResponse beat_resp;
    grpc::ClientContext bctx;
    bctx.set_deadline(std::chrono::system_clock::now() + 3s);
    ASSERT_TRUE(stub->Heartbeat(&bctx, beat, &beat_resp).ok());
  }
  ASSERT_TRUE(sees(*t.client, "GateComponent.members", {"GameComponent", "GoComponent", "MasterComponent"}));
  auto died = std::chrono::steady_clock::now();
  // The test nodes' master checks every 0.25 s with 6 misses: gone after about 6 x 0.3 s.
  EXPECT_TRUE(sees(*t.client, "GateComponent.members", {"GameComponent", "MasterComponent"}));
  EXPECT_LT(std::chrono::steady_clock::now() - died, 6s);
}


TEST_F(Cluster, OneWayMessagesTravelInBatchesAndKeepTheirOrder) {
  std::uint16_t tcp = free_port(), game_metrics = free_port(), gate_port = free_port();
  auto master = start("MasterComponent", true);
  auto game = start("GameComponent", false, 0, 0, {"--metrics", addr(game_metrics)});
  auto gate = start("GateComponent", false, tcp, gate_port);
  auto c = client(tcp);
  ASSERT_TRUE(sees(*c, "GateComponent.members", {"GameComponent", "MasterComponent"}));
  // Gate to backend: 500 notifies, then a request that must come after them.
  for (int i = 0; i < 500; ++i)
    c->notify("GameComponent.echo", "n");
  ASSERT_TRUE(call(*c, "GameComponent.echo", R"("last")"));
  // Backend to gate: 500 pushes from one handler arrive complete and in order.
  auto id = c->request("GameComponent.push", R"({"n":500})");
  for (int i = 0; i < 500; ++i) {
    auto p = c->push("onPush");
    ASSERT_TRUE(p) << "push " << i;
    ASSERT_EQ(json::parse(p->payload)["i"], i);
  }
  ASSERT_TRUE(c->response(id));
  // The backend sent them to the gate in far fewer gRPC calls than messages: all 500 were
  // queued at once, so they could only go one per call if batching were off.
  // The backend counts a batch when the gate's reply reaches it, which can be after the client
  // has the messages: wait for the count.
  auto peer = "peer=\"" + addr(gate_port) + "\"";
  auto ok_series = "nanocaf_cluster_rpcs_total{" + peer + ",result=\"ok\"}";
  double messages = metric(game_metrics, ok_series);
  for (auto until = std::chrono::steady_clock::now() + 5s;
       messages < 502 && std::chrono::steady_clock::now() < until;
       messages = metric(game_metrics, ok_series))
    std::this_thread::sleep_for(20ms);
  double calls = metric(game_metrics, "nanocaf_cluster_rpc_seconds_count{" + peer + "}");
  EXPECT_GE(messages, 502); // the pushes and two responses
  EXPECT_GT(calls, 0);
  EXPECT_LT(calls * 5, messages) << calls << " calls for " << messages << " messages";
}

// A member that speaks only nano's clusterpb (as nano's Go nodes do): its echo handler answers
// through the gate's HandleResponse, one unary call per message.
class nano_style_member final : public clusterpb::Member::Service {
public:
  grpc::Status HandleRequest(grpc::ServerContext*, const clusterpb::RequestMessage* req,
                             clusterpb::MemberHandleResponse*) override {
    ++requests;
    auto gate = clusterpb::Member::NewStub(
      grpc::CreateChannel(req->gateaddr(), grpc::InsecureChannelCredentials()));
    clusterpb::ResponseMessage resp;
    resp.set_sessionid(req->sessionid());
    resp.set_id(req->id());
    resp.set_data("go:" + req->data());
    clusterpb::MemberHandleResponse ignored;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 3s);
    return gate->HandleResponse(&ctx, resp, &ignored);
  }
  std::atomic<int> requests{0};
};

TEST_F(Cluster, NanoStyleMemberWithoutBatchesGetsNanosUnaryCalls) {
  node_args = {"--nano-cluster"};
  auto t = start_trio();
  nano_style_member go;
  auto go_address = addr(free_port());
  grpc::ServerBuilder builder;
  builder.AddListeningPort(go_address, grpc::InsecureServerCredentials());
  builder.RegisterService(&go);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server);
  auto stub = clusterpb::Master::NewStub(
    grpc::CreateChannel(addr(master_port), grpc::InsecureChannelCredentials()));
  clusterpb::RegisterRequest reg;
  reg.mutable_memberinfo()->set_serviceaddr(go_address);
  reg.mutable_memberinfo()->add_services("GoComponent");
  clusterpb::RegisterResponse reg_resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 3s);
  ASSERT_TRUE(stub->Register(&ctx, reg, &reg_resp).ok());
  ASSERT_TRUE(sees(*t.client, "GateComponent.members", {"GameComponent", "GoComponent", "MasterComponent"}));
  // The first request goes out in a batch, is refused as UNIMPLEMENTED and is sent again as
  // HandleRequest; the next ones go unary at once. Requests to the nanocaf backend still work.
  for (int i = 0; i < 5; ++i) {
    auto id = t.client->request("GoComponent.echo", "hi" + std::to_string(i));
    auto m = t.client->response(id);
    ASSERT_TRUE(m) << "request " << i;
    EXPECT_EQ(m->payload, "go:hi" + std::to_string(i));
    auto r = call(*t.client, "GameComponent.echo", R"("still")");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "still");
  }
  EXPECT_EQ(go.requests.load(), 5);
  EXPECT_NE(t.gate->log().find("takes no batches"), std::string::npos);
  server->Shutdown(std::chrono::system_clock::now() + 1s);
}

TEST_F(Cluster, SigtermOnABackendFinishesItsInFlightRequestsThenLeaves) {
  auto t = start_trio();
  auto& c = t.client;
  auto slow = c->request("GameComponent.later", R"({"ms":600})");
  std::this_thread::sleep_for(100ms); // the request is on the backend, its answer 0.5 s away
  t.game->signal(SIGTERM);
  auto m = c->response(slow, 5s);
  ASSERT_TRUE(m) << "the in-flight request was dropped";
  EXPECT_EQ(json::parse(m->payload), (json{{"code", 0}, {"late", true}}));
  EXPECT_TRUE(t.game->exits_within(5s)) << "the backend did not exit";
  // It unregistered (eviction would take 6 heartbeats): the gate forgets it at once.
  EXPECT_TRUE(sees(*c, "GateComponent.members", {"MasterComponent"}));
  auto r = call(*c, "GameComponent.echo", "");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["code"], 404); // no node offers it any more: a clear error, not silence
}

TEST_F(Cluster, RequestsRacingABackendsStopAreAnsweredOrRefusedNeverLost) {
  // Requests sent while a backend stops reach it before, during and after its drain: each
  // gets its answer, or an error (refused by the stopping node, or no node offers the route
  // any more) at once; none waits for the gate's give-up deadline (drain + rpc timeout, 8 s).
  node_args = {"--log-level", "debug"}; // its stop's steps, should it fail
  auto t = start_trio();
  auto& c = t.client;
  t.game->signal(SIGTERM);
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 60; ++i) {
    ids.push_back(c->request("GameComponent.echo", R"("x")"));
    std::this_thread::sleep_for(5ms);
  }
  for (std::size_t i = 0; i < ids.size(); ++i)
    ASSERT_TRUE(c->response(ids[i], 4s)) << "request " << i << " got no answer\n"
                                         << t.game->log();
  EXPECT_TRUE(t.game->exits_within(5s)) << "the backend did not exit; its log:\n"
                                        << t.game->log();
}

TEST(ClusterInbound, AfterDetachRequestsAndNotifiesAreRefusedNotDropped) {
  // A stopping node detaches its inbound side after draining: what other nodes send later must
  // be refused (their gates then answer the clients), not accepted and silently lost.
  test_server srv;
  auto member = srv.rt().system().spawn([](caf::event_based_actor* self) {
    self->set_default_handler(caf::drop);
    return caf::behavior{[](int) {}};
  });
  cluster::detail::inbound in{srv.rt(), member};
  // Fresh messages for each call: inbound takes a message's route and payload over.
  auto request = [](const std::string& route) {
    clusterpb::RequestMessage req;
    req.set_route(route);
    req.set_id(1);
    req.set_sessionid(7);
    return req;
  };
  auto notify = [] {
    clusterpb::NotifyMessage note;
    note.set_route("probe.count");
    return note;
  };
  auto req = request("probe.echo");
  auto note = notify();
  EXPECT_TRUE(in.request(req).ok()); // attached: queued for the member actor
  EXPECT_TRUE(in.notify(note).ok());
  in.detach();
  req = request("probe.echo");
  note = notify();
  EXPECT_EQ(in.request(req).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(in.notify(note).error_code(), grpc::StatusCode::UNAVAILABLE);
  req = request("nowhere.echo");
  EXPECT_EQ(in.request(req).error_code(), grpc::StatusCode::NOT_FOUND);
  caf::anon_send_exit(member, caf::exit_reason::user_shutdown);
}

// A plain-clusterpb Register, as a Go node (or an intruder) would send it.
grpc::Status register_as_outsider(std::shared_ptr<grpc::ChannelCredentials> creds,
                                  std::uint16_t master, const std::string& secret = "") {
  auto stub = clusterpb::Master::NewStub(grpc::CreateChannel(addr(master), std::move(creds)));
  clusterpb::RegisterRequest req;
  req.mutable_memberinfo()->set_serviceaddr(addr(free_port()));
  req.mutable_memberinfo()->add_services("IntruderComponent");
  clusterpb::RegisterResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 2s);
  if (!secret.empty())
    ctx.AddMetadata("nanocaf-cluster-secret", secret);
  return stub->Register(&ctx, req, &resp);
}

// The bundled programs' default: a secret from the default secret file (made on first use),
// so an outsider's Register is refused; --nano-cluster nodes say at start what that risks.
TEST_F(Cluster, NodesUseASecretUnlessToldTheClusterHasNanoNodes) {
  auto t = start_trio();
  auto none = register_as_outsider(grpc::InsecureChannelCredentials(), master_port);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(t.master->log().find("anyone who can reach"), std::string::npos);
  node_args = {"--nano-cluster"};
  auto open_master_port = free_port();
  node_process open{"OpenComponent", open_master_port, true, open_master_port, 0, node_args};
  EXPECT_TRUE(eventually([&] { return open.log().find("anyone who can reach") != std::string::npos; }))
    << open.log();
  EXPECT_TRUE(register_as_outsider(grpc::InsecureChannelCredentials(), open_master_port).ok());
}

// Huge calls from someone without the secret are refused before they cost memory that stays:
// one 150 MB and then eight 200 MB Peer.Calls took a backend from 22 to 339 MB, for good.
TEST_F(Cluster, HugeCallsWithoutTheSecretLeaveNoMemoryBehind) {
#ifdef NANOCAF_SANITIZED
  GTEST_SKIP() << "ASan's allocator holds freed memory in its quarantine: RSS tells nothing here";
#endif
  node_args = {"--secret", "s3cret"};
  auto game_port = free_port();
  auto t = start_trio(game_port);
  std::this_thread::sleep_for(500ms);
  auto before = t.game->rss_kib();
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(addr(game_port), grpc::InsecureChannelCredentials(), args);
  auto stub = nanocaf::cluster::Peer::NewStub(channel);
  auto huge_call = [&](std::size_t bytes) {
    nanocaf::cluster::CallRequest req;
    req.set_route("GameComponent.echo");
    req.set_data(std::string(bytes, 'x'));
    nanocaf::cluster::CallReply reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 20s);
    return stub->Call(&ctx, req, &reply);
  };
  EXPECT_FALSE(huge_call(150u << 20).ok());
  std::vector<std::thread> eight;
  for (int i = 0; i < 8; ++i)
    eight.emplace_back([&] { EXPECT_FALSE(huge_call(200u << 20).ok()); });
  for (auto& th : eight)
    th.join();
  // Back near its plateau (a few MB of gRPC's own growth allowed), and still serving.
  long after = 0;
  EXPECT_TRUE(eventually([&] { return (after = t.game->rss_kib()) < before + 40 * 1024; }, 10s))
    << "RSS " << before << " KiB before, " << after << " KiB after";
  auto r = call(*t.client, "GameComponent.echo", R"("still here")");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "still here");
}

TEST_F(Cluster, SecretRefusesNodesWithoutIt) {
  node_args = {"--secret", "s3cret"};
  auto t = start_trio();
  // A node with the wrong secret never joins, and says why.
  auto wrong = start("WrongComponent", false, 0, 0, {"--secret", "guess"});
  auto none = register_as_outsider(grpc::InsecureChannelCredentials(), master_port);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(none.error_message().find("requires a secret"), std::string::npos);
  auto bad = register_as_outsider(grpc::InsecureChannelCredentials(), master_port, "nope");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(eventually([&] { return wrong->log().find("wrong cluster secret") != std::string::npos; }))
    << wrong->log();
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(sees(*t.client, "GateComponent.members", {"GameComponent", "MasterComponent"}));
  // Those with it work as ever.
  auto id = t.client->request("GameComponent.echo", "with the secret");
  auto m = t.client->response(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "with the secret");
}

// Every node of this cluster speaks gRPC over mutual TLS with a certificate made now.
class TlsCluster : public Cluster {
protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "nanocaf-tls-" + std::to_string(::getpid());
    std::string cmd = "mkdir -p " + dir_ + " && openssl req -x509 -newkey rsa:2048 -nodes -days 1"
                      " -subj /CN=nanocaf-test -addext subjectAltName=IP:127.0.0.1"
                      " -keyout " + dir_ + "/key.pem -out " + dir_ + "/cert.pem > " + dir_ +
                      "/openssl.log 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate";
    node_args = {"--cluster-tls-cert", dir_ + "/cert.pem", "--cluster-tls-key", dir_ + "/key.pem",
                 "--cluster-tls-ca", dir_ + "/cert.pem", "--secret", "over-tls"};
  }
  std::string pem(const std::string& name) const {
    std::ifstream in{dir_ + "/" + name};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::string dir_;
};

TEST_F(TlsCluster, TrafficFlowsOverMutualTlsAndOutsidersAreRefused) {
  auto t = start_trio();
  auto id = t.client->request("GameComponent.echo", "over tls");
  auto m = t.client->response(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "over tls");
  auto r = call(*t.client, "GameComponent.push", R"({"n":2})");
  ASSERT_TRUE(r);
  ASSERT_TRUE(t.client->push("onPush"));
  // Plain gRPC cannot talk to it at all.
  EXPECT_FALSE(register_as_outsider(grpc::InsecureChannelCredentials(), master_port, "over-tls").ok());
  // TLS that trusts the server but shows no client certificate is refused.
  grpc::SslCredentialsOptions no_client_cert;
  no_client_cert.pem_root_certs = pem("cert.pem");
  EXPECT_FALSE(register_as_outsider(grpc::SslCredentials(no_client_cert), master_port, "over-tls").ok());
  // With the certificate and the secret, the master takes it.
  grpc::SslCredentialsOptions full = no_client_cert;
  full.pem_private_key = pem("key.pem");
  full.pem_cert_chain = pem("cert.pem");
  EXPECT_TRUE(register_as_outsider(grpc::SslCredentials(full), master_port, "over-tls").ok());
}

// A bridge killed while its call is still open (a node stopping while requests race in): the
// call completes later on one of gRPC's callback threads. Had it held its channel's last
// reference there, gRPC would shut its shared callback queue down from inside its own thread
// and free it twice (an abort). The node's channel keeper holds the channel until the stop
// drops it on the stopping thread. Run in a fresh process: nothing else may hold that queue.
void bridge_dies_with_a_call_open() {
  // A listener that never answers: the call stays open until its deadline.
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  auto where = loopback();
  ::bind(silent, reinterpret_cast<sockaddr*>(&where), sizeof where);
  ::listen(silent, 8);
  socklen_t len = sizeof where;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&where), &len);
  test_server srv;
  // Whether the freeing thread meets another one is a race: ten rounds make it likely.
  for (int round = 0; round < 10; ++round) {
    auto keeper = std::make_shared<cluster::detail::channel_keeper>();
    cluster::detail::peer_settings settings;
    settings.timeout = std::chrono::milliseconds(100);
    settings.registry = &srv.rt().metrics();
    settings.security = std::make_shared<cluster::detail::node_security>(cluster::options{});
    settings.channels = keeper;
    settings.batches = false;
    auto bridge = cluster::detail::spawn_peer(srv.rt().system(), addr(ntohs(where.sin_port)),
                                              settings);
    caf::anon_send(bridge, cluster::detail::make_job<clusterpb::HeartbeatResponse>(
                             0, clusterpb::HeartbeatRequest{}, NANOCAF_CALL(master, Heartbeat)));
    std::this_thread::sleep_for(30ms); // the call is out
    caf::anon_send_exit(bridge, caf::exit_reason::user_shutdown);
    bridge = nullptr;
    if (!keeper->wait_until_unused(3s))
      std::_Exit(3); // the call never completed
    keeper->release(); // the channel's end, here
  }
  ::close(silent);
  std::_Exit(0);
}

TEST(ClusterBridge, ABridgeThatDiesWithACallOpenLeavesGrpcIntact) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_EXIT(bridge_dies_with_a_call_open(), ::testing::ExitedWithCode(0), "");
}

} // namespace
