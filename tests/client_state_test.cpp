// The client-state protocol alone (actors/src/client_state.cpp): a gate's session and two
// nodes' copies, with the changes and forwards carried by hand in the order the cluster
// carries them.
#include <gtest/gtest.h>

#include <deque>

#include "detail/session_core.hpp"
#include "nanocaf/wiring/client_state.hpp"

using namespace nanocaf;

namespace {

// A remote session's outlet: keeps the changes it would send to the gate.
class change_outlet : public outlet {
public:
  bool forwards_messages() const noexcept override { return true; }
  void changed(const state_change& c) override { changes.push_back(c); }
  void send(shared_bytes) override {}
  void kick(shared_bytes) override {}
  void close() override {}
  const std::string& remote_address() const override { return addr; }
  std::deque<state_change> changes;
  std::string addr = "remote";
};

class socket_outlet : public change_outlet {
public:
  bool forwards_messages() const noexcept override { return false; }
};

struct copies {
  std::shared_ptr<detail::node_context> ctx = std::make_shared<detail::node_context>();
  std::shared_ptr<change_outlet> a_out = std::make_shared<change_outlet>();
  std::shared_ptr<change_outlet> b_out = std::make_shared<change_outlet>();
  session gate = open(std::make_shared<socket_outlet>());
  session a = open(a_out);
  session b = open(b_out);

  session open(std::shared_ptr<outlet> out) {
    return detail::make_session(
      std::make_shared<detail::session_core>(ctx->next_session_id(), std::move(out), ctx));
  }
  // The gate forwards a request to `node`: what it carries is applied there first.
  void forward(const session& to, const std::string& node, std::uint64_t epoch = 1) {
    auto f = wiring::prepare_forward(gate, node, epoch);
    if (f.state)
      wiring::adopt(to, *f.state);
    else
      wiring::acknowledge(to, f.replica_id, f.applied_seq);
    ASSERT_GE(wiring::state_version(to), f.version) << "the node would refuse this request";
  }
  // What `node` sent reaches the gate (before its reply does).
  void deliver(change_outlet& out, const std::string& node) {
    while (!out.changes.empty()) {
      wiring::apply_remote_change(gate, node, out.changes.front());
      out.changes.pop_front();
    }
  }
};

} // namespace

TEST(ClientState, ChangesOnOneNodeReachTheOtherThroughTheGate) {
  copies c;
  c.forward(c.a, "a");
  ASSERT_EQ(c.a.set("name", "ann"), errc::ok);
  ASSERT_EQ(c.a.bind(7), errc::ok);
  c.deliver(*c.a_out, "a");
  EXPECT_EQ(c.gate.get<std::string>("name"), "ann");
  EXPECT_EQ(c.gate.uid(), 7);
  c.forward(c.b, "b");
  EXPECT_EQ(c.b.get<std::string>("name"), "ann");
  EXPECT_EQ(c.b.uid(), 7);
  c.b.remove("name");
  c.deliver(*c.b_out, "b");
  c.forward(c.a, "a");
  EXPECT_FALSE(c.a.has("name"));
  EXPECT_FALSE(c.gate.has("name"));
  EXPECT_EQ(c.gate.get<int>("x", -1), -1);
}

TEST(ClientState, ANodesOwnChangesInFlightSurviveANewerCopy) {
  copies c;
  c.forward(c.a, "a");
  c.forward(c.b, "b");
  c.a.set("mine", 1);  // on its way to the gate...
  c.b.set("theirs", 2);
  c.deliver(*c.b_out, "b"); // ... while b's arrives first
  c.forward(c.a, "a");      // a gets the gate's copy, without its own change yet
  EXPECT_EQ(c.a.get<int>("mine"), 1) << "replayed on top of the copy";
  EXPECT_EQ(c.a.get<int>("theirs"), 2);
  c.deliver(*c.a_out, "a");
  c.forward(c.a, "a");
  c.forward(c.b, "b");
  EXPECT_EQ(c.a.state(), c.gate.state());
  EXPECT_EQ(c.b.state(), c.gate.state());
  EXPECT_EQ(c.gate.state(), nlohmann::json({{"mine", 1}, {"theirs", 2}}));
}

TEST(ClientState, OnlyWhatANodeMayLackTravels) {
  copies c;
  auto first = wiring::prepare_forward(c.gate, "a", 1);
  ASSERT_TRUE(first.state); // new to the client
  wiring::adopt(c.a, *first.state);
  EXPECT_FALSE(wiring::prepare_forward(c.gate, "a", 1).state);
  c.gate.set("k", "v"); // changed on the gate
  c.forward(c.a, "a");
  EXPECT_EQ(c.a.get<std::string>("k"), "v");
  c.a.set("k2", "v2"); // changed on the node itself: it has it
  c.deliver(*c.a_out, "a");
  EXPECT_FALSE(wiring::prepare_forward(c.gate, "a", 1).state);
  EXPECT_TRUE(wiring::prepare_forward(c.gate, "a", 2).state); // registered again: a new process
  wiring::apply_remote_change(c.gate, "a", {state_change::kind::resync, {}, {}});
  EXPECT_TRUE(wiring::prepare_forward(c.gate, "a", 2).state); // it said it lost its copy
}

TEST(ClientState, NodeBindingsTravelAndRoutingsOwnChoicesDoNot) {
  copies c;
  c.forward(c.a, "a");
  c.a.bind_node("room", "10.0.0.2:1");
  wiring::remember_node(c.a, "chat", "10.0.0.3:1"); // sticky choice, local
  c.deliver(*c.a_out, "a");
  EXPECT_EQ(c.gate.find_node("room"), "10.0.0.2:1");
  EXPECT_FALSE(c.gate.find_node("chat"));
  c.forward(c.b, "b");
  EXPECT_EQ(c.b.find_node("room"), "10.0.0.2:1");
  c.b.unbind_node("room");
  c.deliver(*c.b_out, "b");
  EXPECT_FALSE(c.gate.find_node("room"));
}

TEST(ClientState, AChangeLostOnTheWayIsSentAgainAndAppliedInOrder) {
  copies c;
  c.forward(c.a, "a");
  c.a.set("first", 1);
  c.a.set("second", 2);
  c.a_out->changes.pop_front(); // "first" never reaches the gate
  c.deliver(*c.a_out, "a");     // "second" comes after a gap: not applied out of order
  EXPECT_FALSE(c.gate.has("second"));
  c.forward(c.a, "a"); // the gate sends its copy; a replays both and sends them again
  EXPECT_EQ(c.a.get<int>("first"), 1);
  EXPECT_EQ(c.a.get<int>("second"), 2);
  c.deliver(*c.a_out, "a");
  EXPECT_EQ(c.gate.get<int>("first"), 1);
  EXPECT_EQ(c.gate.get<int>("second"), 2);
  c.deliver(*c.a_out, "a"); // duplicates change nothing
  c.forward(c.b, "b");
  EXPECT_EQ(c.b.state(), c.gate.state());
}

TEST(ClientState, ANewCopyOnARestartedNodeStartsAfreshAndOldChangesAreNotReplayed) {
  copies c;
  c.forward(c.a, "a");
  c.a.set("room", 1);
  c.deliver(*c.a_out, "a");
  c.gate.set("room", 2); // changed since, on the gate
  // The same node registers again (a master restart makes every node look new): the copy
  // gets the whole state but must not replay its applied "room = 1" over the newer value.
  c.forward(c.a, "a", 2);
  EXPECT_EQ(c.a.get<int>("room"), 2);
  EXPECT_EQ(c.gate.get<int>("room"), 2);
  // A new process on that node: a fresh copy whose first change is its seq 1.
  auto fresh_out = std::make_shared<change_outlet>();
  auto fresh = c.open(fresh_out);
  c.forward(fresh, "a", 3);
  EXPECT_EQ(fresh.get<int>("room"), 2);
  fresh.set("level", 5);
  c.deliver(*fresh_out, "a");
  EXPECT_EQ(c.gate.get<int>("level"), 5) << "a new copy's seq 1 is not taken for a duplicate";
}

TEST(ClientState, ACopyFromAnotherNodeDoesNotOverwriteOneTheGateKeeps) {
  copies c;
  c.forward(c.a, "a");
  c.gate.set("room", 2);
  c.forward(c.a, "a");
  auto older = wiring::snapshot(c.b); // b's view: nothing
  wiring::adopt(c.a, older);
  EXPECT_EQ(c.a.get<int>("room"), 2);
  auto fresh = c.open(std::make_shared<change_outlet>());
  wiring::adopt(fresh, wiring::snapshot(c.a)); // a node new to the client takes it
  EXPECT_EQ(fresh.get<int>("room"), 2);
}
