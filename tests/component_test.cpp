// Components on their actors: lifecycle order, registration errors, timers, invoke, and the
// pipeline hooks (over real sockets).
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "support/test_client.hpp"
#include "nanocaf/gateway/gateway.hpp"
#include "support/test_server.hpp"

using namespace nanocaf;
using namespace nanocaf::test;
using json = nlohmann::json;

namespace {

template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds limit = 3s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!p()) {
    if (std::chrono::steady_clock::now() > until)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A gateway for TCP clients on a free loopback port, started.
std::unique_ptr<gateway> tcp_gateway(runtime& rt) {
  gateway_options go;
  go.tcp_address = "127.0.0.1:0";
  auto gw = std::make_unique<gateway>(rt, go);
  gw->start();
  return gw;
}

std::unique_ptr<test_client> ready_client(gateway& gw) {
  auto c = test_client::connect_tcp(gw.tcp_port());
  c->handshake_and_ack();
  return c;
}

struct journal {
  std::mutex mu;
  std::vector<std::string> lines;
  void add(std::string s) {
    std::lock_guard<std::mutex> g{mu};
    lines.push_back(std::move(s));
  }
};

class recorder : public component {
public:
  explicit recorder(std::shared_ptr<journal> j) : j_(std::move(j)) {}
  void setup() override { handle("noop", [](session&, const bytes&) {}); }
  void init() override { j_->add(name() + ".init"); }
  void after_init() override { j_->add(name() + ".after_init"); }
  void before_shutdown() override { j_->add(name() + ".before_shutdown"); }
  void shutdown() override { j_->add(name() + ".shutdown"); }

private:
  std::shared_ptr<journal> j_;
};

TEST(Lifecycle, InitInOrderShutdownInReverse) {
  auto j = std::make_shared<journal>();
  {
    runtime rt;
    rt.add(std::make_shared<recorder>(j), with_name("a"));
    rt.add(std::make_shared<recorder>(j), with_name("b"));
    rt.start();
    EXPECT_EQ(rt.routes(), (std::vector<std::string>{"a.noop", "b.noop"}));
    rt.stop();
  }
  EXPECT_EQ(j->lines, (std::vector<std::string>{"a.init", "b.init", "a.after_init",
                                                "b.after_init", "b.before_shutdown",
                                                "a.before_shutdown", "b.shutdown", "a.shutdown"}));
}

struct empty_component : component {
  void setup() override {}
};

struct Sample : component {
  void setup() override { handle("DoThing", [](session&, const bytes&) {}); }
};

TEST(Registration, ErrorsAndNaming) {
  {
    runtime rt;
    rt.add(std::make_shared<empty_component>(), with_name("empty"));
    EXPECT_THROW(rt.start(), std::invalid_argument);
  }
  {
    auto j = std::make_shared<journal>();
    runtime rt;
    rt.add(std::make_shared<recorder>(j), with_name("x"));
    rt.add(std::make_shared<recorder>(j), with_name("x"));
    EXPECT_THROW(rt.start(), std::invalid_argument);
  }
  {
    runtime rt;
    rt.add<Sample>({}); // default service name: the type name, as in nano
    rt.add<Sample>({"lower", to_lower});
    rt.start();
    EXPECT_EQ(rt.routes(), (std::vector<std::string>{"Sample.DoThing", "lower.dothing"}));
  }
}

class ticker : public component {
public:
  std::atomic<int> every_fired{0}, after_fired{0}, count_fired{0}, until_fired{0},
    cancelled_fired{0}, invoked{0};
  std::atomic<bool> on_own_actor{true};
  std::thread::id last_thread;

  void setup() override { handle("noop", [](session&, const bytes&) {}); }
  void init() override {
    every(std::chrono::milliseconds(10), [this] { ++every_fired; });
    after(std::chrono::milliseconds(20), [this] { ++after_fired; });
    count(std::chrono::milliseconds(5), 3, [this] { ++count_fired; });
    until(std::chrono::milliseconds(5), [this] { return until_fired >= 4; }, [this] { ++until_fired; });
    auto id = every(std::chrono::milliseconds(5), [this] { ++cancelled_fired; });
    cancel(id);
  }
};

TEST(Timers, EveryAfterCountUntilCancel) {
  runtime rt;
  auto t = rt.add<ticker>(with_name("ticker"));
  rt.start();
  ASSERT_TRUE(eventually([&] { return t->every_fired >= 5; }));
  EXPECT_TRUE(eventually([&] { return t->count_fired == 3 && t->until_fired == 4; }));
  std::this_thread::sleep_for(60ms); // finished timers stay finished
  EXPECT_EQ(t->after_fired.load(), 1);
  EXPECT_EQ(t->count_fired.load(), 3);
  EXPECT_EQ(t->until_fired.load(), 4);
  EXPECT_EQ(t->cancelled_fired.load(), 0);
  std::atomic<std::size_t> active{99};
  t->invoke([&] { active = t->active_timers(); });
  EXPECT_TRUE(eventually([&] { return active == 1u; })); // only `every` is left
  rt.stop();
}

// The pattern of a turn timer: re-armed on every move. The component's timers wait in its own
// queue with one wake-up armed for the earliest, so an earlier timer must overtake a later one
// that is already armed, and a timer cancelled and started again a thousand times fires once.
class turn_keeper : public component {
public:
  using clock = std::chrono::steady_clock;
  std::mutex mu;
  std::vector<std::pair<std::string, clock::duration>> fired; // what, how long after start
  clock::time_point started;
  std::atomic<int> pending{5}; // notes still to come

  void setup() override { handle("noop", [](session&, const bytes&) {}); }
  void init() override {
    started = clock::now();
    after(std::chrono::milliseconds(400), [this] {
      cancel(long_);
      note("late");
    });
    after(std::chrono::milliseconds(40), [this] { note("early"); }); // comes before "late"
    // A callback that starts a far timer while a nearer one waits: the nearer keeps its time.
    after(std::chrono::milliseconds(60), [this] {
      long_ = after(std::chrono::seconds(3), [this] { note("never"); });
    });
    after(std::chrono::milliseconds(100), [this] { note("queued"); });
    timer_id turn = 0;
    for (int move = 0; move < 1000; ++move) {
      if (turn != 0)
        cancel(turn);
      turn = after(std::chrono::milliseconds(100), [this] { note("turn"); });
    }
    // A callback that cancels itself and starts another: the queue holds up.
    self_cancel_ = every(std::chrono::milliseconds(10), [this] {
      cancel(self_cancel_);
      after(std::chrono::milliseconds(1), [this] { note("chained"); });
    });
  }

private:
  void note(const std::string& what) {
    std::lock_guard<std::mutex> guard{mu};
    fired.emplace_back(what, clock::now() - started);
    --pending;
  }
  timer_id self_cancel_ = 0;
  timer_id long_ = 0;
};

TEST(Timers, AnEarlierTimerOvertakesALaterOneAndAReArmedOneFiresOnce) {
  runtime rt;
  auto t = rt.add<turn_keeper>(with_name("turns"));
  rt.start();
  ASSERT_TRUE(eventually([&] { return t->pending == 0; }, std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100)); // nothing else may come
  std::lock_guard<std::mutex> guard{t->mu};
  std::vector<std::string> order;
  for (auto& [what, when] : t->fired)
    order.push_back(what);
  EXPECT_EQ(order, (std::vector<std::string>{"chained", "early", "queued", "turn", "late"}));
  auto at = [&](const std::string& what) {
    for (auto& [w, when] : t->fired)
      if (w == what)
        return std::chrono::duration_cast<std::chrono::milliseconds>(when).count();
    return std::chrono::milliseconds::rep{-1};
  };
  EXPECT_GE(at("early"), 40);
  EXPECT_LT(at("early"), 300); // not held back until the later timer's wake-up
  EXPECT_GE(at("queued"), 100);
  EXPECT_LT(at("queued"), 300); // not held back by the 3 s timer armed meanwhile
  EXPECT_GE(at("turn"), 100);
  EXPECT_GE(at("late"), 400);
  std::atomic<std::size_t> active{99};
  t->invoke([&] { active = t->active_timers(); });
  EXPECT_TRUE(eventually([&] { return active == 0u; }));
  rt.stop();
}

TEST(Invoke, RunsOnTheComponentActorFromAnyThread) {
  runtime rt;
  auto t = rt.add<ticker>(with_name("ticker"));
  rt.start();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 250; ++k)
        t->invoke([&] { ++t->invoked; }); // one at a time on the actor: no lost updates
    });
  for (auto& th : threads)
    th.join();
  EXPECT_TRUE(eventually([&] { return t->invoked == 1000; }));
  EXPECT_TRUE(rt.invoke("ticker", [&] { ++t->invoked; }));
  EXPECT_FALSE(rt.invoke("nobody", [] {}));
  EXPECT_TRUE(eventually([&] { return t->invoked == 1001; }));
}

class caller : public component {
public:
  std::mutex mu;
  std::vector<call_reply> replies;
  std::atomic<bool> on_own_actor{true};

  void setup() override {
    handle("double", [](session&, const json& j) { return json{{"v", j.at("v").get<int>() * 2}}; });
    handle("silent", [](session&, const bytes&) {});
    handle("throws", [](session&, const bytes&) -> json { throw handler_error(409, "conflict"); });
  }
  void ask(const std::string& route, json arg) {
    invoke([this, route, arg] {
      auto* me = self();
      call(route, arg, std::chrono::milliseconds(500), [this, me](const call_reply& r) {
        if (self() != me)
          on_own_actor = false;
        std::lock_guard<std::mutex> g{mu};
        replies.push_back(r);
      });
    });
  }
  std::size_t count() {
    std::lock_guard<std::mutex> g{mu};
    return replies.size();
  }
};

TEST(Calls, LocalRequestReplyWithErrorsAndDeadlines) {
  runtime rt;
  auto a = rt.add<caller>(with_name("a"));
  rt.start();
  a->ask("a.double", json{{"v", 21}});
  ASSERT_TRUE(eventually([&] { return a->count() == 1; }));
  a->ask("a.missing", json{});
  ASSERT_TRUE(eventually([&] { return a->count() == 2; }));
  a->ask("a.silent", json{});
  ASSERT_TRUE(eventually([&] { return a->count() == 3; }));
  a->ask("a.throws", json{});
  ASSERT_TRUE(eventually([&] { return a->count() == 4; }));
  a->ask("a.double", json{{"v", "not a number"}});
  ASSERT_TRUE(eventually([&] { return a->count() == 5; }));
  std::lock_guard<std::mutex> g{a->mu};
  EXPECT_EQ(a->replies[0].code, 0);
  EXPECT_EQ(json::parse(a->replies[0].data)["v"], 42);
  EXPECT_EQ(a->replies[1].code, 404);
  EXPECT_EQ(a->replies[2].code, 504); // returned nothing: no reply
  EXPECT_EQ(a->replies[3].code, 409);
  EXPECT_EQ(a->replies[3].error, "conflict");
  EXPECT_EQ(a->replies[4].code, 500); // the argument is json: decoding worked, the handler threw
  EXPECT_TRUE(a->on_own_actor);
}

TEST(Pipeline, InboundMayDropOutboundMayRewrite) {
  auto hooks = std::make_shared<pipeline>();
  hooks->inbound.push_back([](const session&, codec::message& m) { return m.route != "probe.count"; });
  hooks->inbound.push_front([](const session&, codec::message& m) {
    if (m.route == "probe.echo")
      m.payload = "in:" + m.payload;
    return true;
  });
  hooks->outbound.push_back([](const session&, codec::message& m) {
    if (m.type == codec::message_type::response && m.payload.rfind("in:", 0) == 0)
      m.payload += ":out";
    return m.route != "onPush"; // drop every push
  });
  server_config cfg;
  cfg.runtime.hooks = hooks;
  test_server srv{cfg};
  auto c = test_client::connect_tcp(srv.tcp_port());
  c->handshake_and_ack();
  auto id = c->request("probe.echo", "x");
  EXPECT_EQ(c->response(id)->payload, "in:x:out");
  c->notify("probe.count", "");
  auto pushes = c->request("probe.push", R"({"n":3})");
  auto m = c->next_message();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, pushes); // the three pushes were dropped
  auto stats = c->request("probe.stats", "");
  EXPECT_EQ(json::parse(c->response(stats)->payload)["notifies"], 0);
}

} // namespace

class failing_init : public component {
public:
  void setup() override { handle("noop", [](session&, const bytes&) {}); }
  void init() override { throw std::runtime_error("no database"); }
};

// A node whose component could not start must not serve: start() fails with who and why, and
// what did start is shut down again.
TEST(Lifecycle, AFailingInitFailsStartWithTheComponentsNameAndReason) {
  auto j = std::make_shared<journal>();
  runtime rt;
  rt.add(std::make_shared<recorder>(j), with_name("first"));
  rt.add(std::make_shared<failing_init>(), with_name("db"));
  rt.add(std::make_shared<recorder>(j), with_name("never")); // its init never runs: no shutdown
  try {
    rt.start();
    FAIL() << "start() returned";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("'db'"), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("no database"), std::string::npos) << e.what();
  }
  EXPECT_EQ(j->lines, (std::vector<std::string>{"first.init", "first.before_shutdown",
                                                "first.shutdown"}));
}

class late_hooks : public component {
public:
  std::atomic<int> closed{0};
  void setup() override {
    // Registered while the node runs, from a handler: it used to be dropped silently.
    handle("arm", [this](session&, const bytes&) {
      on_session_closed([this](const session&) { ++closed; });
      return bytes{"armed"};
    });
  }
};

TEST(SessionClosedHooks, RegisteredAfterStartTheyRun) {
  runtime rt;
  auto c = rt.add<late_hooks>(with_name("late"));
  rt.start();
  auto gw = tcp_gateway(rt);
  {
    auto client = ready_client(*gw);
    ASSERT_TRUE(client->response(client->request("late.arm", "")));
  }
  EXPECT_TRUE(eventually([&] { return c->closed == 1; }));
  gw->stop();
  rt.stop();
}

// A call's deadline timer goes when the reply comes (it stayed until it fired); a callback
// that throws ends neither the component nor the process, wherever the call completes.
TEST(Calls, TheDeadlineTimerGoesWithTheReplyAndThrowingCallbacksAreContained) {
  runtime rt;
  auto a = rt.add<caller>(with_name("a"));
  rt.start();
  a->ask("a.double", json{{"v", 1}});
  ASSERT_TRUE(eventually([&] { return a->count() == 1; }));
  std::atomic<int> timers{-1};
  a->invoke([&] { timers = static_cast<int>(a->active_timers()); });
  EXPECT_TRUE(eventually([&] { return timers == 0; })) << timers;
  // From a plain thread: the handler drops its call session without answering (504), and
  // the callback throws on whichever thread lets the session go.
  std::atomic<int> ran{0};
  rt.call(std::nullopt, "a.silent", "", std::chrono::milliseconds(500), [&](call_reply r) {
    ++ran;
    throw std::runtime_error("callback failed with code " + std::to_string(r.code));
  });
  // From the component's actor: the callback runs back there, and throws there.
  a->invoke([&] {
    rt.call(std::nullopt, "a.double", R"({"v":2})", std::chrono::milliseconds(500),
            [&](call_reply) {
              ++ran;
              throw std::runtime_error("callback on the actor failed");
            });
  });
  EXPECT_TRUE(eventually([&] { return ran == 2; }));
  a->ask("a.double", json{{"v", 3}}); // all still working
  EXPECT_TRUE(eventually([&] { return a->count() == 2; }));
}

// Stopping the runtime before the gateway (the wrong order) while a client sends: the route
// table stays in place for the Asio thread that reads it (ASan saw it freed under it).
TEST(Runtime, StopBeforeTheGatewayIsNotARace) {
  runtime rt;
  rt.add<caller>(with_name("a"));
  rt.start();
  auto gw = tcp_gateway(rt);
  auto client = ready_client(*gw);
  std::atomic<bool> go_on{true};
  std::thread sender{[&] {
    try {
      while (go_on)
        client->notify("a.silent", "");
    } catch (const std::exception&) {
      // the connection ended: fine
    }
  }};
  std::this_thread::sleep_for(50ms);
  rt.stop();
  std::this_thread::sleep_for(50ms);
  go_on = false;
  sender.join();
  gw->stop();
}

// Handlers without a payload and with `const session&`, as lambdas and members.
class signatures : public component {
public:
  void setup() override {
    handle("list", &signatures::list);
    handle("peek", &signatures::peek);
    handle("lambda_none", [](session&) { return bytes{"none"}; });
    handle("lambda_const", [](const session& s, const nlohmann::json& j) {
      return nlohmann::json{{"sid", s.id() != 0}, {"v", j.value("v", 0)}};
    });
    handle("fn", &signatures::free_function);
  }
  nlohmann::json list(session&) { return {{"rooms", {1, 2}}}; }
  nlohmann::json peek(const session&, const nlohmann::json& j) const { return j; }
  static bytes free_function(const session&) { return bytes{"free"}; }
};

TEST(Handlers, WithoutPayloadAndWithConstSession) {
  runtime rt;
  rt.add<signatures>(with_name("sig"));
  rt.start();
  auto gw = tcp_gateway(rt);
  auto c = ready_client(*gw);
  auto list = c->request("sig.list", "this payload is ignored");
  auto peek = c->request("sig.peek", R"({"a":1})");
  auto none = c->request("sig.lambda_none", "");
  auto lconst = c->request("sig.lambda_const", R"({"v":7})");
  auto fn = c->request("sig.fn", "");
  EXPECT_EQ(json::parse(c->response(list)->payload)["rooms"], json({1, 2}));
  EXPECT_EQ(json::parse(c->response(peek)->payload)["a"], 1);
  EXPECT_EQ(c->response(none)->payload, "none");
  EXPECT_EQ(json::parse(c->response(lconst)->payload)["v"], 7);
  EXPECT_EQ(c->response(fn)->payload, "free");
  gw->stop();
  rt.stop();
}

struct point_reply {
  int x = 0;
  int y = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(point_reply, x, y)

// Server-only handlers: a client gets the 404 of a route that does not exist; components call
// them, with typed replies decoded on the caller's actor.
class inner : public component {
public:
  std::mutex mu;
  std::map<std::string, call_result<point_reply>> results; // by route: replies come in any order
  std::atomic<bool> on_own_actor{true};

  void setup() override {
    handle_internal("move", [](session&, const point_reply& p) { return point_reply{p.x + 1, p.y}; });
    handle_internal("text", [](session&) { return bytes{"not a point"}; });
    handle("public", [this](session&, const bytes&) {
      ask("inner.move", json{{"x", 1}, {"y", 2}});
      ask("inner.text", json{});
      ask("inner.nothing", json{});
      return bytes{"asked"};
    });
  }
  void ask(const std::string& route, const json& arg) {
    auto* me = self();
    call<point_reply>(route, arg, std::chrono::seconds(2),
                      [this, me, route](const call_result<point_reply>& r) {
                        if (self() != me)
                          on_own_actor = false;
                        std::lock_guard<std::mutex> g{mu};
                        results[route] = r;
                      });
  }
  std::size_t count() {
    std::lock_guard<std::mutex> g{mu};
    return results.size();
  }
};

TEST(Calls, ServerOnlyHandlersAndTypedReplies) {
  runtime rt;
  auto c = rt.add<inner>(with_name("inner"));
  rt.start();
  auto gw = tcp_gateway(rt);
  auto client = ready_client(*gw);
  auto hidden = json::parse(client->response(client->request("inner.move", R"({"x":1,"y":1})"))->payload);
  auto missing = json::parse(client->response(client->request("inner.nothing", "{}"))->payload);
  EXPECT_EQ(hidden["code"], 404);
  EXPECT_EQ(hidden["error"], "route not found: inner.move"); // as for a route that does not exist
  EXPECT_EQ(missing["error"], "route not found: inner.nothing");
  ASSERT_TRUE(client->response(client->request("inner.public", "")));
  ASSERT_TRUE(eventually([&] { return c->count() == 3; }));
  std::lock_guard<std::mutex> g{c->mu};
  auto& moved = c->results["inner.move"];
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved.value->x, 2);
  EXPECT_EQ(moved.value->y, 2);
  auto& text = c->results["inner.text"];
  EXPECT_EQ(text.code, 500); // does not decode as a point
  EXPECT_EQ(text.error, "internal error");
  EXPECT_EQ(text.error_id.size(), 16u);
  EXPECT_FALSE(text.value);
  EXPECT_EQ(c->results["inner.nothing"].code, 404);
  EXPECT_TRUE(c->on_own_actor);
  gw->stop();
  rt.stop();
}
