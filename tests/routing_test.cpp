// Member routing alone (cluster/src/routing.cpp): sticky per session and service, route
// functions that see the message, pinned nodes, and routing by key.
#include <algorithm>

#include <gtest/gtest.h>

#include "detail/routing.hpp"
#include "nanocaf/runtime.hpp"
#include "nanocaf/wiring/runtime.hpp"

using namespace nanocaf;
using namespace nanocaf::cluster;

namespace {

class null_outlet : public outlet {
public:
  void send(shared_bytes) override {}
  void kick(shared_bytes) override {}
  void close() override {}
  const std::string& remote_address() const override { return addr_; }

private:
  std::string addr_ = "test";
};

struct routing : ::testing::Test {
  runtime rt;
  std::map<std::string, member_info> members{
    {"10.0.0.1:1", {"a", "10.0.0.1:1", {"room"}}},
    {"10.0.0.2:1", {"b", "10.0.0.2:1", {"room"}}},
    {"10.0.0.3:1", {"c", "10.0.0.3:1", {"room"}}}};
  std::vector<std::string> candidates{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"};
  std::mt19937 rng{42};
  std::string service = "room";
  std::string route = "room.join";

  session new_session() { return wiring::open_remote_session(rt, std::make_shared<null_outlet>()); }
  std::string choose(const session& s, const route_function& fn = {},
                     const std::vector<std::string>* among = nullptr,
                     std::string_view payload = {}) {
    client_ref ref{"gate:1", s.valid() ? s.id() : 0};
    return cluster::detail::choose_node({service, route, payload, s, ref},
                                        among ? *among : candidates, members, fn, rng);
  }
};

std::vector<member_info> nodes(int n) {
  std::vector<member_info> out;
  for (int i = 0; i < n; ++i)
    out.push_back({"n", "10.0.1." + std::to_string(i) + ":4000", {"room"}});
  return out;
}

} // namespace

TEST_F(routing, TheFirstChoiceSticksForTheSessionAndService) {
  auto s = new_session();
  auto first = choose(s);
  EXPECT_NE(std::find(candidates.begin(), candidates.end(), first), candidates.end());
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(choose(s), first);
  EXPECT_EQ(s.find_node("room"), first);
}

TEST_F(routing, ARouteFunctionIsAskedForEveryMessageAndSeesItAll) {
  int asked = 0;
  route_function last = [&](const route_request& r, const std::vector<member_info>& infos) {
    ++asked;
    EXPECT_EQ(r.service, "room");
    EXPECT_EQ(r.route, "room.join");
    EXPECT_EQ(r.payload, R"({"room":7})");
    EXPECT_EQ(r.ref.gate, "gate:1");
    EXPECT_EQ(infos.size(), 3u);
    return infos.back().service_address;
  };
  auto s = new_session();
  EXPECT_EQ(choose(s, last, nullptr, R"({"room":7})"), "10.0.0.3:1");
  EXPECT_EQ(choose(s, last, nullptr, R"({"room":7})"), "10.0.0.3:1");
  EXPECT_EQ(asked, 2); // not sticky: the answer may depend on the message
  EXPECT_FALSE(s.find_node("room"));
  route_function drop = [](const route_request&, const std::vector<member_info>&) {
    return std::string{};
  };
  auto other = new_session();
  EXPECT_EQ(choose(other, drop), "");
  EXPECT_FALSE(other.find_node("room"));
  // A call made for no client: an empty answer picks a node at random instead.
  auto picked = choose(session{}, drop);
  EXPECT_NE(std::find(candidates.begin(), candidates.end(), picked), candidates.end());
}

TEST_F(routing, APinnedNodeComesFirstAndOneThatLeftIsReplaced) {
  auto s = new_session();
  route_function first = [](const route_request&, const std::vector<member_info>& infos) {
    return infos.front().service_address;
  };
  s.bind_node("room", "10.0.0.2:1");
  EXPECT_EQ(choose(s, first), "10.0.0.2:1");
  s.bind_node("room", "10.0.0.9:1"); // not a candidate any more
  std::vector<std::string> left{"10.0.0.1:1", "10.0.0.2:1"};
  EXPECT_EQ(choose(s, first, &left), "10.0.0.1:1");
  EXPECT_FALSE(s.find_node("room"));
}

TEST_F(routing, RouteByKeySendsAllMessagesOfARoomToOneNode) {
  auto fn = route_by_key(json_field({{"room", "roomId"}}));
  auto a = new_session(), b = new_session();
  for (int room = 0; room < 50; ++room) {
    auto payload = R"({"roomId":)" + std::to_string(room) + "}";
    auto chosen = choose(a, fn, nullptr, payload);
    EXPECT_EQ(choose(b, fn, nullptr, payload), chosen) << "room " << room;
    EXPECT_EQ(chosen, node_for_key(std::to_string(room), [&] {
                std::vector<member_info> v;
                for (auto& [addr, m] : members)
                  v.push_back(m);
                return v;
              }()));
  }
  // No key (not JSON, no field, too deep): routed by client instead.
  auto by_client = choose(a, route_by_client);
  EXPECT_EQ(choose(a, fn, nullptr, "not json"), by_client);
  EXPECT_EQ(choose(a, fn, nullptr, R"({"other":1})"), by_client);
  auto deep = std::string(R"({"a":)") + std::string(100, '[') + std::string(100, ']') + R"(,"roomId":1})";
  EXPECT_EQ(choose(a, fn, nullptr, deep), by_client); // valid JSON, too deep to parse on a gate
  EXPECT_EQ(choose(a, fn, nullptr, R"({"roomId":1})"), choose(b, fn, nullptr, R"({"roomId":1})"));
}

TEST(JsonField, TheRouteFirstThenTheServiceStringsAndIntegers) {
  auto key_of = json_field({{"room", "roomId"}, {"room.create", "name"}});
  std::string service = "room", join = "room.join", create = "room.create";
  session none;
  client_ref ref;
  auto key = [&](const std::string& route, std::string_view payload) {
    return key_of({service, route, payload, none, ref});
  };
  EXPECT_EQ(key(join, R"({"roomId":"r-42"})"), "r-42");
  EXPECT_EQ(key(join, R"({"roomId":42})"), "42");
  EXPECT_EQ(key(create, R"({"roomId":1,"name":"blue"})"), "blue");
  EXPECT_FALSE(key(join, R"({"roomId":1.5})"));
  EXPECT_FALSE(key(join, R"([1])"));
  EXPECT_FALSE(key(join, ""));
}

TEST(NodeForKey, AgreesEverywhereAndMovesAboutOneNthOfTheKeys) {
  auto four = nodes(4), five = nodes(5);
  auto reversed = four;
  std::reverse(reversed.begin(), reversed.end());
  int moved = 0, keys = 20000;
  std::map<std::string, int> load;
  for (int k = 0; k < keys; ++k) {
    auto key = "room-" + std::to_string(k);
    auto before = node_for_key(key, four);
    EXPECT_EQ(node_for_key(key, reversed), before); // the order of the list does not matter
    auto after = node_for_key(key, five);
    ++load[before];
    if (after != before) {
      ++moved;
      EXPECT_EQ(after, five.back().service_address); // only to the node that joined
    }
  }
  // A fifth node takes about 1/5 of the keys; each of four holds about 1/4.
  EXPECT_NEAR(moved, keys / 5, keys / 50);
  for (auto& [node, n] : load)
    EXPECT_NEAR(n, keys / 4, keys / 25) << node;
  EXPECT_EQ(node_for_key("x", {}), "");
}

TEST(RouteByClient, TheSameNodeForAClientOnEveryNode) {
  std::vector<member_info> infos{{"a", "x:1", {}}, {"b", "y:1", {}}};
  session none;
  std::string service = "room", route = "room.join";
  auto pick = [&](std::int64_t sid, const std::vector<member_info>& among) {
    client_ref ref{"g", sid};
    return route_by_client({service, route, {}, none, ref}, among);
  };
  EXPECT_EQ(pick(4, infos), "x:1");
  EXPECT_EQ(pick(5, infos), "y:1");
  EXPECT_EQ(pick(-3, infos), "y:1");
  EXPECT_EQ(pick(5, {}), "");
  EXPECT_EQ(pick(0, infos), ""); // no client
}
