// Waiting in tests for what actors do on other threads.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

namespace nanocaf::test {

/// Waits up to 20 s for `n` to reach `want`; true when it did.
inline bool wait_for(const std::atomic<int>& n, int want) {
  using namespace std::chrono_literals;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       n.load() < want && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(1ms);
  return n.load() == want;
}

} // namespace nanocaf::test
