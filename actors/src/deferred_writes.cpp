#include "detail/deferred_writes.hpp"

#include <utility>
#include <vector>

#include "nanocaf/log.hpp"

namespace nanocaf {

namespace {

// Handlers whose writes may be held back together. Enough to fold a burst of broadcasts into
// one write per member; few enough that a push waits at most a few handlers' time.
constexpr int handlers_per_flush = 16;

struct thread_deferral {
  int depth = 0;
  int handlers = 0;
  std::vector<std::shared_ptr<outlet>> holding;  // outlets holding packets for this deferral
  std::vector<std::shared_ptr<outlet>> flushing; // the same while they write; kept for capacity
};

thread_local thread_deferral current;

void write_all_deferred() {
  auto& d = current;
  // write_held() runs with the deferral closed, so what it sends goes out at once.
  auto depth = std::exchange(d.depth, 0);
  d.flushing.swap(d.holding);
  for (auto& out : d.flushing) {
    try {
      out->write_held();
    } catch (const std::exception& e) { // out of memory copying a remainder: that client only
      log::warn("deferred write failed: ", e.what());
    }
  }
  d.flushing.clear();
  d.depth = depth;
}

} // namespace

write_deferral::write_deferral() noexcept { ++current.depth; }

write_deferral::~write_deferral() {
  if (--current.depth != 0)
    return;
  current.handlers = 0;
  if (!current.holding.empty())
    write_all_deferred();
}

void write_deferral::send(const std::shared_ptr<outlet>& out, shared_bytes packet) {
  if (current.depth == 0)
    out->send(std::move(packet));
  else if (out->send_or_hold(std::move(packet)))
    current.holding.push_back(out);
}

void write_deferral::handler_done() {
  if (++current.handlers < handlers_per_flush)
    return;
  current.handlers = 0;
  if (!current.holding.empty())
    write_all_deferred();
}

} // namespace nanocaf
