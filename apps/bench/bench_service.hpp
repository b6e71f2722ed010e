// The routes the load clients expect: bench.echo (raw bytes back), bench.echojson (JSON decoded
// and re-encoded), bench.notify (counted), bench.join (one group), bench.broadcast (pushes
// onBroadcast to the group).
#pragma once

#include <atomic>

#include <nanocaf/component.hpp>
#include <nanocaf/group.hpp>

namespace bench {

class service : public nanocaf::component {
public:
  std::atomic<std::uint64_t> notifies{0};

  void setup() override {
    // Taking the bytes by reference lets the reply reuse them: no copy, as in nano.
    handle("echo", [](nanocaf::session&, nanocaf::bytes& b) { return std::move(b); });
    handle("echojson", [](nanocaf::session&, const nlohmann::json& j) { return j; });
    handle("notify", [this](nanocaf::session&, const nanocaf::bytes&) {
      notifies.fetch_add(1, std::memory_order_relaxed);
    });
    handle("join", [this](nanocaf::session& s, const nanocaf::bytes&) {
      members_.add(s);
      return nlohmann::json{{"code", 0}, {"members", members_.count()}};
    });
    handle("broadcast", [this](nanocaf::session&, const nanocaf::bytes& b) {
      members_.broadcast("onBroadcast", b); // the body as it came: encoded once for everyone
      return nlohmann::json{{"code", 0}};
    });
  }

  void after_init() override {
    on_session_closed([this](const nanocaf::session& s) { members_.leave(s); });
  }

private:
  nanocaf::group members_{"bench"};
};

} // namespace bench
