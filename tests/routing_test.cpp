// Member routing alone (cluster/src/routing.cpp): sticky per session and service, a custom
// route function, and a bound node that left.
#include <gtest/gtest.h>

#include "detail/routing.hpp"
#include "nanocaf/runtime.hpp"

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

  session new_session() { return rt.open_remote_session(std::make_shared<null_outlet>()); }
  std::string choose(const session& s, const route_function& route = {},
                     const std::vector<std::string>* among = nullptr) {
    return cluster::detail::choose_node("room", s, {"gate:1", s.id()}, among ? *among : candidates,
                               members, route, rng);
  }
};

} // namespace

TEST_F(routing, TheFirstChoiceSticksForTheSessionAndService) {
  auto s = new_session();
  auto first = choose(s);
  EXPECT_NE(std::find(candidates.begin(), candidates.end(), first), candidates.end());
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(choose(s), first);
  EXPECT_EQ(s.find_route("room"), first);
}

TEST_F(routing, ACustomRouteFunctionDecidesAndSeesTheCandidates) {
  int asked = 0;
  route_function last = [&](const std::string& service, const session&, const client_ref& c,
                            const std::vector<member_info>& infos) {
    ++asked;
    EXPECT_EQ(service, "room");
    EXPECT_EQ(c.gate, "gate:1");
    EXPECT_EQ(infos.size(), 3u);
    return infos.back().service_address;
  };
  auto s = new_session();
  EXPECT_EQ(choose(s, last), "10.0.0.3:1");
  EXPECT_EQ(choose(s, last), "10.0.0.3:1");
  EXPECT_EQ(asked, 1); // then sticky
  route_function drop = [](const std::string&, const session&, const client_ref&,
                           const std::vector<member_info>&) { return std::string{}; };
  auto other = new_session();
  EXPECT_EQ(choose(other, drop), "");
  EXPECT_FALSE(other.find_route("room"));
}

TEST_F(routing, ABoundNodeThatLeftIsReplaced) {
  auto s = new_session();
  s.bind_route("room", "10.0.0.9:1"); // not a candidate any more
  route_function first = [](const std::string&, const session&, const client_ref&,
                            const std::vector<member_info>& infos) {
    return infos.front().service_address;
  };
  std::vector<std::string> left{"10.0.0.1:1", "10.0.0.2:1"};
  EXPECT_EQ(choose(s, first, &left), "10.0.0.1:1");
  EXPECT_EQ(s.find_route("room"), "10.0.0.1:1");
}

TEST(RouteByClient, TheSameNodeForAClientOnEveryNode) {
  std::vector<member_info> infos{{"a", "x:1", {}}, {"b", "y:1", {}}};
  session none;
  EXPECT_EQ(route_by_client("room", none, {"g", 4}, infos), "x:1");
  EXPECT_EQ(route_by_client("room", none, {"g", 5}, infos), "y:1");
  EXPECT_EQ(route_by_client("room", none, {"g", -3}, infos), "y:1");
  EXPECT_EQ(route_by_client("room", none, {"g", 5}, {}), "");
}
