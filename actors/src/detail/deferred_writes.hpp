// Writes that wait for the end of the work that made them. A handler that sends one client
// several packets (a few broadcasts in a row, pushes and then its reply) then costs that client
// one system call instead of one per packet, and the client one read.
//
// A stretch of work (an actor job on the built-in scheduler, one handler on any scheduler) opens
// a `write_deferral`. While one is open on a thread, a connection with nothing queued holds a
// shared packet sent to it (outlet::send_or_hold) instead of writing it, and the deferral has
// it written (outlet::write_held) when the stretch ends.
// Outside any stretch (Asio threads, CAF's own schedulers between handlers) writes go out at once.
#pragma once

#include <memory>

#include "nanocaf/bytes.hpp"
#include "nanocaf/wiring/outlet.hpp"

namespace nanocaf {

/// Opens a stretch of work on this thread; the outermost one's end writes what was held.
/// Nests: only the outermost scope writes.
class write_deferral {
public:
  write_deferral() noexcept;
  ~write_deferral();
  write_deferral(const write_deferral&) = delete;
  write_deferral& operator=(const write_deferral&) = delete;

  /// Sends `packet` through `out`; inside a deferral `out` may hold it until the deferral ends
  /// (or until a few handlers have run, so that a long actor job does not hold pushes back).
  static void send(const std::shared_ptr<outlet>& out, shared_bytes packet);
  /// A handler finished inside the open deferral: after a few of them, what they held is
  /// written, so one client's pushes never wait for a whole mailbox of other work.
  static void handler_done();
};

} // namespace nanocaf
