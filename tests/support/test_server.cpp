#include "test_server.hpp"

#include <pthread.h>

#include <stdexcept>

#include "nanocaf/proto/chat.pb.h"

namespace nanocaf::test {

using json = nlohmann::json;

void probe::setup() {
  handle("echo", [](session&, const bytes& b) { return b; });
  handle("json", [](session&, const json& j) { return j; });
  handle("typed", [](session&, const point& p) { return point{p.x + 1, p.y + 1}; });
  handle("proto", [](session&, const nanocaf::chat::UserMessage& m) {
    nanocaf::chat::UserMessage r;
    r.set_name(m.name() + "!");
    r.set_content(m.content());
    return r;
  });
  handle("fail", [](session&, const bytes&) -> json { throw std::runtime_error("boom"); });
  handle("deny", [](session&, const bytes&) -> json { throw handler_error(403, "denied"); });
  handle("count", [this](session&, const bytes&) { ++notifies; });
  // A handler slower than its client: 2 ms of work per message.
  handle("slow", [](session&, const bytes&) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2);
    while (std::chrono::steady_clock::now() < until) {
    }
  });
  handle("stats", [this](session&, const bytes&) {
    return json{{"notifies", notifies.load()}, {"closed", sessions_closed.load()},
                {"callbacks", session_callbacks.load()}};
  });
  handle("push", [](session& s, const json& j) {
    for (int i = 0; i < j.value("n", 1); ++i)
      s.push("onPush", json{{"i", i}});
    return json{{"code", 0}};
  });
  handle("kick", [](session& s, const bytes&) { s.kick("bye"); });
  handle("close", [](session& s, const bytes&) { s.close(); });
  handle("set", [](session& s, const json& j) {
    s.set(j.at("k").get<std::string>(), j.at("v").get<std::string>());
    return json{{"code", 0}};
  });
  handle("get", [](session& s, const json& j) {
    auto key = j.at("k").get<std::string>();
    return json{{"has", s.has(key)}, {"v", s.get<std::string>(key)}, {"as_int", s.get<int>(key)}};
  });
  handle("bind", [](session& s, const json& j) {
    auto err = s.bind(j.at("uid").get<std::int64_t>());
    return json{{"code", static_cast<int>(err)}, {"uid", s.uid()}};
  });
  handle("join", [this](session& s, const bytes&) {
    members.add(s);
    return json{{"members", members.count()}};
  });
  handle("broadcast", [this](session&, const json& j) {
    members.broadcast("onBroadcast", j);
    return json{{"code", 0}};
  });
  handle("burst", [this](session&, const json& j) { // n broadcasts from one handler
    std::string pad(static_cast<std::size_t>(j.value("size", 0)), 'x');
    for (int i = 0; i < j.value("n", 10); ++i)
      members.broadcast("onBurst", json{{"i", i}, {"pad", pad}});
    return json{{"code", 0}};
  });
  handle("farewell", [this](session& s, const bytes&) { // a last broadcast, then close
    members.broadcast("onFarewell", json{{"from", s.id()}});
    s.close();
  });
  handle("later", [this](session& s, const bytes&) {
    auto mid = s.last_mid();
    after(std::chrono::milliseconds(30), [s, mid] { s.response_to(mid, json{{"late", true}}); });
  });
  handle("flood", [](session& s, const json& j) {
    std::string blob(static_cast<std::size_t>(j.value("size", 60000)), 'x');
    for (int i = 0; i < j.value("n", 100); ++i)
      if (s.push_payload("onFlood", blob) != errc::ok)
        break;
  });
  handle("thread", [](session&, const bytes&) { // the name of the thread the handler runs on
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    return json{{"name", name}};
  });
  handle("watch", [this](session& s, const bytes&) {
    s.on_closed([this](const session&) { ++session_callbacks; });
    return json{{"code", 0}};
  });
}

void probe::after_init() {
  on_session_closed([this](const session& s) {
    ++sessions_closed;
    members.leave(s);
  });
}

server_config::server_config() {
  runtime.heartbeat = std::chrono::seconds(5);
  runtime.worker_threads = 2;
  // The suites flood on purpose (admission control, ordering, bursts); the default budget has
  // tests of its own (hardening_test.cpp).
  runtime.rate_limit = 0;
  runtime.fanout_limit = 0;
  gateway.tcp_address = "127.0.0.1:0";
  gateway.ws_address = "127.0.0.1:0";
}

test_server::test_server(server_config cfg) : rt_(std::make_unique<runtime>(cfg.runtime)) {
  probe_ = rt_->add<probe>(with_name("probe"));
  rt_->start();
  gate_ = std::make_unique<gateway>(*rt_, cfg.gateway);
  gate_->start();
}

test_server::~test_server() {
  gate_->stop();
  rt_->stop();
}

} // namespace nanocaf::test
