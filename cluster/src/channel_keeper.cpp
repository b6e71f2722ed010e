#include "detail/channel_keeper.hpp"

#include <algorithm>
#include <thread>

#include <grpcpp/channel.h>

namespace nanocaf::cluster::detail {

void channel_keeper::keep(std::shared_ptr<grpc::Channel> channel) {
  std::lock_guard<std::mutex> guard{mu_};
  // Only this list can hand out more references to these: one held by nothing else stays so.
  channels_.erase(std::remove_if(channels_.begin(), channels_.end(),
                                 [](const auto& c) { return c.use_count() == 1; }),
                  channels_.end());
  channels_.push_back(std::move(channel));
}

bool channel_keeper::wait_until_unused(std::chrono::milliseconds limit) const {
  auto until = std::chrono::steady_clock::now() + limit;
  while (users_.load(std::memory_order_acquire) > 0) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void channel_keeper::release() {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  {
    std::lock_guard<std::mutex> guard{mu_};
    channels.swap(channels_);
  }
}

channel_user::channel_user(std::shared_ptr<channel_keeper> keeper) noexcept {
  count_in(std::move(keeper));
}

void channel_user::count_in(std::shared_ptr<channel_keeper> keeper) noexcept {
  if (keeper_ || !keeper)
    return;
  keeper_ = std::move(keeper);
  keeper_->users_.fetch_add(1, std::memory_order_acq_rel);
}

channel_user::~channel_user() {
  if (keeper_)
    keeper_->users_.fetch_sub(1, std::memory_order_acq_rel);
}

} // namespace nanocaf::cluster::detail
