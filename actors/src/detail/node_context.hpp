// What every session and service of one node shares. Built in runtime::start and read-only
// afterwards (except the session registry, which has its own lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>

#include "detail/node_metrics.hpp"
#include "nanocaf/wiring/remote_router.hpp"
#include "nanocaf/runtime.hpp"

namespace nanocaf::detail {

struct route_target {
  caf::actor service;
  std::uint32_t handler = 0;
  route_metrics* stats = nullptr;
  bool internal = false; // server-only: only call sessions reach it
};

struct session_core;

/// A client session of this node: its actor, and what the session clock reads.
struct live_session {
  caf::actor actor;
  std::shared_ptr<session_core> core;
};

struct closed_hook {
  caf::actor owner; // the component actor the hook runs on
  std::function<void(const session&)> fn;
};

struct node_context {
  runtime_options options;
  shared_bytes handshake_response;
  shared_bytes heartbeat_packet;
  std::unordered_map<std::string, route_target> routes;
  /// The node-wide on-closed hooks: read by every closing session on any thread, added to
  /// while the node runs (component::on_session_closed from a handler), so copied on write.
  std::shared_ptr<const std::vector<closed_hook>> closed_hooks() const {
    return std::atomic_load(&closed_hooks_);
  }
  void set_closed_hooks(std::vector<closed_hook> hooks) {
    std::lock_guard<std::mutex> guard{hooks_mu_};
    std::atomic_store(&closed_hooks_,
                      std::make_shared<const std::vector<closed_hook>>(std::move(hooks)));
  }
  void add_closed_hook(closed_hook hook) {
    std::lock_guard<std::mutex> guard{hooks_mu_};
    auto next = std::make_shared<std::vector<closed_hook>>(*std::atomic_load(&closed_hooks_));
    next->push_back(std::move(hook));
    std::atomic_store(&closed_hooks_, std::shared_ptr<const std::vector<closed_hook>>(next));
  }
  std::shared_ptr<remote_router> router; // set when the node is in a cluster
  std::shared_ptr<metrics::registry> registry;
  std::unique_ptr<node_metrics> stats;

  std::uint16_t node_id = 0;
  // Starts from a microsecond clock, so a restarted process does not reuse the ids its
  // previous run handed out (other nodes may still hold sessions under them).
  std::atomic<std::uint64_t> next_session_seq{first_session_seq()};
  static std::uint64_t first_session_seq() noexcept;

  // Live client sessions of this node, so that stop() can end them and the cluster can reach
  // them by id.
  mutable std::mutex sessions_mu;
  std::unordered_map<std::int64_t, live_session> sessions;

  const pipeline* hooks() const noexcept { return options.hooks.get(); }

private:
  std::mutex hooks_mu_; // writers of closed_hooks_
  std::shared_ptr<const std::vector<closed_hook>> closed_hooks_ =
    std::make_shared<const std::vector<closed_hook>>();

public:
  std::int64_t next_session_id() noexcept;
};

/// {"code":200,"sys":{["dict":{...},]"heartbeat":H,"servertime":T}} as spec 1.6.
std::string handshake_response_json(const runtime_options& options, std::int64_t server_time);

} // namespace nanocaf::detail
