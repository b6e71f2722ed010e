// Inbound and outbound message hooks (spec 6.1). A hook may rewrite the message, or return
// false to drop it. Inbound hooks run on the session's actor before the payload is decoded;
// outbound hooks run before each Push or Response is encoded, on the sending actor's thread,
// so hooks must be thread-safe when they keep state.
#pragma once

#include <functional>
#include <vector>

#include "nanocaf/codec/message.hpp"

namespace nanocaf {

class session;

using pipeline_hook = std::function<bool(const session&, codec::message&)>;

class pipeline_channel {
public:
  void push_front(pipeline_hook hook) { hooks_.insert(hooks_.begin(), std::move(hook)); }
  void push_back(pipeline_hook hook) { hooks_.push_back(std::move(hook)); }
  bool empty() const noexcept { return hooks_.empty(); }

  /// Runs the hooks in order; false as soon as one drops the message.
  bool process(const session& s, codec::message& msg) const {
    for (auto& hook : hooks_)
      if (!hook(s, msg))
        return false;
    return true;
  }

private:
  std::vector<pipeline_hook> hooks_;
};

struct pipeline {
  pipeline_channel inbound;
  pipeline_channel outbound;
};

} // namespace nanocaf
