// What a session holds for its connection: a proxy with a weak reference. The connection itself
// is owned by the I/O side (its pending operations), so it is never kept alive, or destroyed,
// by an actor after the gateway has stopped and its io_context is gone.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>

#include "detail/connection.hpp"

namespace nanocaf::detail {

/// Shared by a gateway's proxies; closed by gateway::stop before the io_context goes away.
struct gateway_liveness {
  std::shared_mutex mu;
  bool open = true;
};

class connection_outlet final : public outlet {
public:
  connection_outlet(std::weak_ptr<connection> conn, std::string remote,
                    std::shared_ptr<gateway_liveness> live)
    : conn_(std::move(conn)), remote_(std::move(remote)), live_(std::move(live)) {}

  void send(shared_bytes packet) override {
    with([&](connection& c) { c.send(std::move(packet)); });
  }
  /// A write deferral holds this proxy, never the connection (see with()).
  bool send_or_hold(shared_bytes packet) override {
    bool held = false;
    with([&](connection& c) { held = c.send_or_hold(std::move(packet)); });
    return held;
  }
  void write_held() override {
    with([](connection& c) { c.write_held(); });
  }
  void send_copy(std::string_view packet) override {
    with([&](connection& c) { c.send_copy(packet); });
  }
  void kick(shared_bytes packet) override {
    with([&](connection& c) { c.kick(std::move(packet)); });
  }
  void close() override {
    with([](connection& c) { c.close(); });
  }
  const std::string& remote_address() const override { return remote_; }

private:
  // The reference taken here is dropped inside the lock, so once stop() has closed the gate
  // no actor thread holds a connection.
  template <class F>
  void with(F&& f) {
    std::shared_lock<std::shared_mutex> guard{live_->mu};
    if (!live_->open)
      return;
    if (auto c = conn_.lock())
      f(*c);
  }

  std::weak_ptr<connection> conn_;
  std::string remote_;
  std::shared_ptr<gateway_liveness> live_;
};

} // namespace nanocaf::detail
