#include "nanocaf/gateway/signals.hpp"

#include <csignal>
#include <pthread.h>

namespace nanocaf {

namespace {
sigset_t shutdown_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
} // namespace

void block_shutdown_signals() {
  auto set = shutdown_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN); // a peer that vanished must not kill the process
}

int wait_for_shutdown_signal() {
  auto set = shutdown_set();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

} // namespace nanocaf
