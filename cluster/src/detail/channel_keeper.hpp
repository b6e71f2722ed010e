// What a node's bridges hold of gRPC, kept so that gRPC's callback threads never drop the last
// reference to a channel.
//
// Why: a call's context holds its channel, and its completion runs on one of gRPC's callback
// threads. A channel that used the callback API holds a reference to gRPC's process-wide
// callback queue (gRPC 1.51 runs it on threads of its own when the poller cannot run in the
// background, as here). When that reference is the queue's last one and drops on one of those
// threads, gRPC shuts the queue down and frees it from inside its own thread, and another of its
// threads frees it again: a double free, seen when a bridge died with calls still open (a node
// stopping while requests race in).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace grpc {
class Channel;
}

namespace nanocaf::cluster::detail {

class channel_keeper {
public:
  /// Keeps `channel` until no one else holds it; drops (here, on the caller's thread) those
  /// kept channels that nothing else holds any more.
  void keep(std::shared_ptr<grpc::Channel> channel);

  /// Waits (blocking: not on an actor) until no bridge is alive and no call is open, or
  /// `limit` passes; true if none is left. Then release() drops the channels on this thread.
  bool wait_until_unused(std::chrono::milliseconds limit) const;
  void release();

private:
  friend class channel_user;
  std::atomic<std::int64_t> users_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

/// A bridge, or one of its calls until its completion has run and released what it held:
/// counted by the keeper while it lives. As a member, put it first: it is then destroyed last.
class channel_user {
public:
  explicit channel_user(std::shared_ptr<channel_keeper> keeper = nullptr) noexcept;
  ~channel_user();
  channel_user(const channel_user&) = delete;
  channel_user& operator=(const channel_user&) = delete;

  /// Counts this one from now on (when it was made without a keeper).
  void count_in(std::shared_ptr<channel_keeper> keeper) noexcept;

private:
  std::shared_ptr<channel_keeper> keeper_;
};

} // namespace nanocaf::cluster::detail
