// What a session holds for its connection: a proxy with a weak reference. The connection itself
// is owned by the I/O side (its pending operations), so it is never kept alive, or destroyed,
// by an actor after the gateway has stopped and its io_context is gone.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>

#include "detail/connection.hpp"
#include "nanocaf/deferred_writes.hpp"

namespace nanocaf::detail {

/// Shared by a gateway's proxies; closed by gateway::stop before the io_context goes away.
struct gateway_liveness {
  std::shared_mutex mu;
  bool open = true;
};

class connection_outlet final : public outlet,
                                public deferred_writer,
                                public std::enable_shared_from_this<connection_outlet> {
public:
  connection_outlet(std::weak_ptr<connection> conn, std::string remote,
                    std::shared_ptr<gateway_liveness> live)
    : conn_(std::move(conn)), remote_(std::move(remote)), live_(std::move(live)) {}

  /// Shared packets (broadcasts) wait for the end of the sender's deferral, if it has one;
  /// the deferral then holds this proxy, never the connection (see with()).
  void send(shared_bytes packet) override {
    if (!write_deferral::active()) {
      with([&](connection& c) { c.send(std::move(packet)); });
      return;
    }
    bool held = false;
    with([&](connection& c) { held = c.send_deferred(std::move(packet)); });
    if (held)
      write_deferral::defer(shared_from_this());
  }
  void write_deferred() override {
    with([](connection& c) { c.write_deferred(); });
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
