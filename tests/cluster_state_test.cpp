// Client state that follows the client across nodes, nodes pinned per client, rooms routed by
// key, and a lost node told to its clients: real processes, real gRPC on 127.0.0.1.
#include "cluster_fixture.hpp"

using namespace nanocaf::test;

namespace {

// master, two backends (StateA, StateB) and a gate with a client, once the gate knows them.
struct state_cluster {
  std::unique_ptr<node_process> master, a, b, gate;
  std::unique_ptr<test_client> client;
  std::uint16_t tcp = 0, a_port = 0;
};

class ClusterState : public Cluster {
protected:
  state_cluster start_state_cluster(std::vector<std::string> extra = {}) {
    state_cluster sc;
    sc.tcp = free_port();
    sc.a_port = free_port();
    sc.master = start("MasterComponent", true, 0, 0, extra);
    sc.a = start("StateA", false, 0, sc.a_port, extra);
    sc.b = start("StateB", false, 0, 0, extra);
    sc.gate = start("GateComponent", false, sc.tcp, 0, extra);
    sc.client = client(sc.tcp);
    EXPECT_TRUE(sees(*sc.client, "GateComponent.members", {"MasterComponent", "StateA", "StateB"}));
    return sc;
  }
  static json get(test_client& c, const std::string& service, const std::string& key) {
    auto r = call(c, service + ".get", json{{"k", key}}.dump());
    return r ? *r : json{};
  }
  static bool set(test_client& c, const std::string& service, const std::string& key,
                  const json& value) {
    auto r = call(c, service + ".set", json{{"k", key}, {"v", value}}.dump());
    return r && (*r)["code"] == 0;
  }
};

} // namespace

TEST_F(ClusterState, WhatOneNodeSetsEveryNodeSeesInTheNextRequest) {
  auto sc = start_state_cluster();
  auto& c = *sc.client;
  ASSERT_TRUE(set(c, "StateA", "name", "ann"));
  ASSERT_TRUE(call(c, "StateA.bind", R"({"uid":9})"));
  auto seen = get(c, "StateB", "name"); // no wait: read-your-writes
  EXPECT_EQ(seen["v"], "ann");
  EXPECT_EQ(seen["uid"], 9);
  EXPECT_EQ(get(c, "GateComponent", "name")["v"], "ann"); // the gate holds it
  // A write on the gate reaches both backends; a removal on one reaches the other.
  ASSERT_TRUE(set(c, "GateComponent", "level", json{{"n", 3}}));
  EXPECT_EQ(get(c, "StateA", "level")["v"], json({{"n", 3}}));
  ASSERT_TRUE(call(c, "StateB.remove", R"({"k":"name"})"));
  EXPECT_TRUE(get(c, "StateA", "name")["v"].is_null());
  EXPECT_TRUE(get(c, "GateComponent", "name")["v"].is_null());
  // Writes alternating between nodes, each read back on the other at once.
  for (int i = 0; i < 30; ++i) {
    auto writer = i % 2 ? "StateA" : "StateB", reader = i % 2 ? "StateB" : "StateA";
    ASSERT_TRUE(set(c, writer, "n", i));
    ASSERT_TRUE(set(c, reader, std::string{"by_"} + reader, i));
    auto r = get(c, reader, "n");
    ASSERT_EQ(r["v"], i) << "round " << i;
    ASSERT_EQ(get(c, writer, std::string{"by_"} + reader)["v"], i) << "round " << i;
  }
  // A second client's state is its own.
  auto other = client(sc.tcp);
  EXPECT_TRUE(get(*other, "StateB", "n")["v"].is_null());
  EXPECT_EQ(get(*other, "StateA", "n")["uid"], 0);
}

TEST_F(ClusterState, WhatACalledHandlerChangesTheCallerSeesInItsCallback) {
  auto sc = start_state_cluster();
  auto& c = *sc.client;
  for (int i = 0; i < 20; ++i) {
    // From the gate (the authoritative copy) and from a backend (a copy of its own).
    for (auto caller : {"GateComponent", "StateB"}) {
      auto r = call(c, std::string{caller} + ".callset",
                    json{{"route", "StateA.set"}, {"k", "x"}, {"v", i}}.dump());
      ASSERT_TRUE(r);
      ASSERT_EQ((*r)["seen"], i) << caller << ", round " << i;
      ASSERT_EQ(get(c, "StateB", "x")["v"], i);
    }
  }
}

TEST_F(ClusterState, TheBoundPerClientIsAClearErrorToTheHandler) {
  auto sc = start_state_cluster();
  auto& c = *sc.client;
  std::string big(40 * 1024, 'x');
  ASSERT_TRUE(set(c, "StateA", "a", big));
  auto r = call(c, "StateB.set", json{{"k", "b"}, {"v", big}}.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["code"], 413);
  EXPECT_EQ((*r)["error"], "client state too large");
  EXPECT_TRUE(get(c, "StateA", "b")["v"].is_null());
  EXPECT_EQ(get(c, "StateB", "a")["v"].get<std::string>().size(), big.size());
}

TEST_F(ClusterState, ABackendThatRestartsGetsTheStateWithTheNextRequest) {
  auto sc = start_state_cluster();
  auto& c = *sc.client;
  ASSERT_TRUE(set(c, "StateB", "name", "bob"));
  ASSERT_EQ(get(c, "StateA", "name")["v"], "bob");
  sc.a->kill_now();
  sc.a = start("StateA", false, 0, sc.a_port);
  // Once the gate knows the new registration, the very first request carries the state.
  ASSERT_TRUE(eventually([&] {
    auto log = sc.gate->log();
    auto first = log.find("offers [StateA]");
    return first != std::string::npos && log.find("offers [StateA]", first + 1) != std::string::npos;
  })) << "the gate must hear of the new registration";
  EXPECT_EQ(get(c, "StateA", "name")["v"], "bob") << "the new process must get the client's state with its first request";
}

TEST_F(ClusterState, APinnedNodeIsHonouredByEveryNodeThatRoutesForTheClient) {
  std::uint16_t tcp = free_port(), p1 = free_port(), p2 = free_port();
  auto master = start("MasterComponent", true);
  auto r1 = start("Room", false, 0, p1);
  auto r2 = start("Room", false, 0, p2);
  auto gate = start("GateComponent", false, tcp);
  auto c = client(tcp);
  ASSERT_TRUE(sees(*c, "GateComponent.members", {"MasterComponent", "Room", "Room"}));
  auto first = call(*c, "Room.where", "")->at("node").get<std::string>();
  auto other = first == addr(p1) ? addr(p2) : addr(p1);
  // Pinned from a backend (MasterComponent): the gate honours it from the next message on.
  ASSERT_TRUE(call(*c, "MasterComponent.pin", json{{"service", "Room"}, {"node", other}}.dump()));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(call(*c, "Room.where", "")->at("node"), other);
  // So does the master when it routes for the client (a chained notify from there).
  c->notify("MasterComponent.chain", json{{"route", "Room.pushwhere"}, {"body", {}}}.dump());
  auto pushed = c->push("onWhere");
  ASSERT_TRUE(pushed);
  EXPECT_EQ(json::parse(pushed->payload)["node"], other);
  // A pin to a node that does not offer the service is dropped: routing chooses again.
  ASSERT_TRUE(call(*c, "MasterComponent.pin", json{{"service", "Room"}, {"node", "127.0.0.1:1"}}.dump()));
  auto now = call(*c, "Room.where", "")->at("node").get<std::string>();
  EXPECT_TRUE(now == addr(p1) || now == addr(p2));
}

TEST_F(ClusterState, RoomsRoutedByKeyLiveOnOneNodeForEveryGate) {
  std::uint16_t tcp1 = free_port(), tcp2 = free_port();
  std::vector<std::string> keyed{"--route-service", "Room", "--route-key", "room"};
  auto master = start("MasterComponent", true, 0, 0, keyed);
  auto r1 = start("Room", false, 0, 0, keyed);
  auto r2 = start("Room", false, 0, 0, keyed);
  auto gate1 = start("GateComponent", false, tcp1, 0, keyed);
  auto gate2 = start("GateComponent", false, tcp2, 0, keyed);
  auto c1 = client(tcp1), c2 = client(tcp2);
  // Both Room nodes registered: the gates see the service twice.
  ASSERT_TRUE(sees(*c1, "GateComponent.members", {"GateComponent", "MasterComponent", "Room", "Room"}));
  ASSERT_TRUE(sees(*c2, "GateComponent.members", {"GateComponent", "MasterComponent", "Room", "Room"}));
  std::set<std::string> nodes;
  for (int room = 0; room < 40; ++room) {
    auto body = json{{"room", room}}.dump();
    auto w1 = call(*c1, "Room.where", body), w2 = call(*c2, "Room.where", body);
    ASSERT_TRUE(w1 && w2);
    EXPECT_EQ((*w1)["node"], (*w2)["node"]) << "room " << room;
    EXPECT_EQ(call(*c1, "Room.where", body)->at("node"), (*w1)["node"]); // and it stays
    nodes.insert((*w1)["node"].get<std::string>());
  }
  EXPECT_EQ(nodes.size(), 2u); // 40 rooms spread over both
}

TEST_F(ClusterState, AKilledBackendsClientsAreToldWithinASecond) {
  auto sc = start_state_cluster();
  auto& c = *sc.client;
  ASSERT_TRUE(call(c, "StateA.echo", R"("hi")"));
  auto pending = c.request("StateA.never", "");
  auto killed_at = std::chrono::steady_clock::now();
  sc.a->kill_now();
  auto lost = c.push("onNodeLost", 3s);
  ASSERT_TRUE(lost) << "the gate must tell the client that a node serving it is lost";
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 2s); // eviction takes 1.5 s and more
  EXPECT_EQ(json::parse(lost->payload)["services"], json({"StateA"}));
  auto m = c.response(pending, 1s);
  ASSERT_TRUE(m);
  EXPECT_EQ(json::parse(m->payload)["code"], 503);
  // StateB, which the client never used, is not reported; StateA's messages fail at once.
  auto r = call(c, "StateA.echo", R"("again")", 1s);
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r)["code"] == 503 || (*r)["code"] == 404);
  EXPECT_FALSE(c.push("onNodeLost", 300ms));
}
