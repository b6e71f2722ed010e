// Group semantics (spec 4) on sessions whose outlet records what would go to the socket.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "detail/session_core.hpp"
#include "nanocaf/codec/packet.hpp"
#include "nanocaf/group.hpp"

using namespace nanocaf;

namespace {

class recording_outlet : public outlet {
public:
  void send(shared_bytes p) override {
    std::lock_guard<std::mutex> g{mu};
    sent.push_back(std::move(p));
  }
  void kick(shared_bytes p) override { send(std::move(p)); }
  void close() override {}
  const std::string& remote_address() const override { return addr; }

  std::mutex mu;
  std::vector<shared_bytes> sent;
  std::string addr = "test";
};

struct fixture {
  std::shared_ptr<detail::node_context> ctx = std::make_shared<detail::node_context>();
  std::vector<std::shared_ptr<recording_outlet>> outlets;

  session make(std::int64_t uid = 0) {
    auto out = std::make_shared<recording_outlet>();
    outlets.push_back(out);
    auto s = detail::make_session(std::make_shared<detail::session_core>(ctx->next_session_id(), out, ctx));
    if (uid)
      s.bind(uid);
    return s;
  }
};

TEST(Group, MembershipErrorsAsNano) {
  fixture f;
  group g{"g"};
  auto a = f.make(10), b = f.make(20), c = f.make();
  EXPECT_EQ(g.add(a), errc::ok);
  EXPECT_EQ(g.add(a), errc::session_duplication);
  EXPECT_EQ(g.add(b), errc::ok);
  EXPECT_EQ(g.add(c), errc::ok);
  EXPECT_EQ(g.count(), 3u);
  EXPECT_TRUE(g.contains(20));
  EXPECT_FALSE(g.contains(30));
  EXPECT_EQ(g.member(10)->id(), a.id());
  EXPECT_FALSE(g.member(99));
  EXPECT_EQ(g.find_member([](const session& s) { return s.uid() == 0; })->id(), c.id());
  EXPECT_EQ(g.members(), (std::vector<std::int64_t>{10, 20, 0}));
  EXPECT_EQ(g.leave(b), errc::ok);
  EXPECT_EQ(g.leave(b), errc::ok); // absent is fine
  EXPECT_EQ(g.count(), 2u);
  EXPECT_EQ(g.leave_all(), errc::ok);
  EXPECT_EQ(g.count(), 0u);
  EXPECT_TRUE(g.members().empty());
  EXPECT_EQ(g.close(), errc::ok);
  EXPECT_EQ(g.close(), errc::close_closed_group);
  EXPECT_EQ(g.add(a), errc::closed_group);
  EXPECT_EQ(g.leave(a), errc::closed_group);
  EXPECT_EQ(g.broadcast("r", nlohmann::json{}), errc::closed_group);
  EXPECT_STREQ(to_string(errc::session_duplication), "session has existed in the current group");
}

TEST(Group, BroadcastEncodesOnceAndSharesTheBuffer) {
  fixture f;
  group g{"g"};
  for (int i = 0; i < 5; ++i)
    g.add(f.make(i + 1));
  EXPECT_EQ(g.broadcast("onMessage", nlohmann::json{{"content", "hi"}}), errc::ok);
  auto first = f.outlets[0]->sent.at(0);
  for (auto& o : f.outlets) {
    ASSERT_EQ(o->sent.size(), 1u);
    EXPECT_EQ(o->sent[0].get(), first.get()); // the very same buffer
  }
  codec::stream_decoder d;
  std::vector<codec::packet> packets;
  ASSERT_EQ(d.feed(*first, packets), codec::error::none);
  codec::message m;
  ASSERT_EQ(codec::decode_message(packets.at(0).body, nullptr, m), codec::error::none);
  EXPECT_EQ(m.route, "onMessage");
  EXPECT_EQ(m.payload, R"({"content":"hi"})");
}

TEST(Group, MulticastFiltersAndSkipsClosedSessions) {
  fixture f;
  group g{"g"};
  auto a = f.make(1), b = f.make(2), c = f.make(3);
  g.add(a), g.add(b), g.add(c);
  detail::core_of(c)->closed = true;
  EXPECT_EQ(g.multicast("r", nanocaf::bytes{"x"}, [](const session& s) { return s.uid() != 2; }),
            errc::ok);
  EXPECT_EQ(f.outlets[0]->sent.size(), 1u);
  EXPECT_EQ(f.outlets[1]->sent.size(), 0u);
  EXPECT_EQ(f.outlets[2]->sent.size(), 0u);
}

TEST(Session, ResponseOnNotifyAndClosedSessions) {
  fixture f;
  auto s = f.make();
  EXPECT_EQ(s.response(nlohmann::json{}), errc::session_on_notify);
  auto req = detail::make_session(detail::core_of(s), 5);
  EXPECT_EQ(req.response(nanocaf::bytes{"ok"}), errc::ok);
  detail::core_of(s)->closed = true;
  EXPECT_EQ(req.response(nanocaf::bytes{"late"}), errc::broken_pipe);
  EXPECT_EQ(s.push("r", nanocaf::bytes{"x"}), errc::broken_pipe);
  EXPECT_EQ(s.push(std::string(300, 'r'), nanocaf::bytes{"x"}), errc::broken_pipe);
}

TEST(Session, IdsAreUniquePerNodeAndSafeForJavaScript) {
  fixture f;
  f.ctx->node_id = 1023;
  auto a = f.make(), b = f.make();
  EXPECT_NE(a.id(), b.id());
  EXPECT_LT(a.id(), std::int64_t{1} << 53);
  EXPECT_EQ(a.id() >> 42, 1023);
  EXPECT_EQ(a.push(std::string(300, 'r'), nanocaf::bytes{"x"}), errc::encode_failed);
}

TEST(Session, DataClearAndState) {
  fixture f;
  auto s = f.make(5);
  EXPECT_EQ(s.set("n", 3), errc::ok);
  s.set("name", "x");
  EXPECT_EQ(s.get<int>("n"), 3);
  EXPECT_EQ(s.get<std::int64_t>("n"), 3); // JSON: any type the value converts to
  EXPECT_EQ(s.get<std::string>("n", "none"), "none"); // does not convert: the fallback
  EXPECT_EQ(s.get<int>("missing", -1), -1);
  EXPECT_TRUE(s.value("missing").is_null());
  EXPECT_EQ(s.state().size(), 2u);
  s.remove("n");
  EXPECT_FALSE(s.has("n"));
  s.clear();
  EXPECT_EQ(s.uid(), 0);
  EXPECT_FALSE(s.has("name"));
  EXPECT_EQ(s.restore({{"k", "v"}}), errc::ok);
  EXPECT_EQ(s.get<std::string>("k"), "v");
  EXPECT_EQ(s.restore(nlohmann::json::array()), errc::state_too_large); // not an object
}

TEST(Session, StateIsBoundedPerClient) {
  fixture f;
  auto s = f.make(6);
  std::string big(40 * 1024, 'x');
  EXPECT_EQ(s.set("a", big), errc::ok);
  EXPECT_EQ(s.set("b", big), errc::state_too_large); // 64 KiB by default
  EXPECT_FALSE(s.has("b"));
  EXPECT_EQ(s.set("a", big + big), errc::state_too_large);
  EXPECT_EQ(s.get<std::string>("a"), big); // unchanged
  EXPECT_EQ(s.set("a", "small"), errc::ok); // replacing frees what the old value took
  EXPECT_EQ(s.set("b", big), errc::ok);
  nlohmann::json huge{{"x", big}, {"y", big}};
  EXPECT_EQ(s.restore(huge), errc::state_too_large);
}

} // namespace

// A member whose gate encodes (a remote session) gets whole messages; a broadcast that
// cannot be encoded (a route over 255 bytes without a dictionary) must reach no member, not
// the remote ones before the encoding failed for a local one.
class forwarding_outlet : public recording_outlet {
public:
  bool forwards_messages() const noexcept override { return true; }
  void deliver(codec::message_type, std::uint64_t, std::string_view, std::string) override {
    ++delivered;
  }
  std::atomic<int> delivered{0};
};

TEST(Group, ABroadcastThatCannotBeEncodedReachesNoMember) {
  fixture f;
  auto remote_out = std::make_shared<forwarding_outlet>();
  auto remote = detail::make_session(
    std::make_shared<detail::session_core>(f.ctx->next_session_id(), remote_out, f.ctx));
  group g{"g"};
  g.add(remote); // the lower id: visited first
  g.add(f.make(1));
  EXPECT_EQ(g.broadcast(std::string(300, 'r'), nlohmann::json{{"x", 1}}), errc::encode_failed);
  EXPECT_EQ(remote_out->delivered, 0);
  EXPECT_TRUE(f.outlets[0]->sent.empty());
  EXPECT_EQ(g.broadcast("onOk", nlohmann::json{{"x", 1}}), errc::ok);
  EXPECT_EQ(remote_out->delivered, 1);
  EXPECT_EQ(f.outlets[0]->sent.size(), 1u);
}
