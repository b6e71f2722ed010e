// Writes that wait for the end of the work that made them. A handler that sends one client
// several packets (a few broadcasts in a row, pushes and then its reply) then costs that client
// one system call instead of one per packet, and the client one read.
//
// A stretch of work (an actor job on the built-in scheduler, one handler on any scheduler) opens
// a `write_deferral`. While one is open on a thread, a connection with nothing queued holds a
// shared packet sent to it instead of writing it, and asks to be told when the stretch ends.
// Outside any stretch (Asio threads, CAF's own schedulers between handlers) writes go out at once.
#pragma once

#include <memory>

namespace nanocaf {

/// Something that holds packets back until the current stretch of work ends (a connection).
class deferred_writer {
public:
  virtual ~deferred_writer() = default;
  /// Writes what was held back. Called on the thread that deferred, outside any deferral.
  virtual void write_deferred() = 0;
};

/// Opens a stretch of work on this thread; the outermost one's end writes what was deferred.
/// Nests: only the outermost scope writes.
class write_deferral {
public:
  write_deferral() noexcept;
  ~write_deferral();
  write_deferral(const write_deferral&) = delete;
  write_deferral& operator=(const write_deferral&) = delete;

  /// True while a deferral is open on this thread.
  static bool active() noexcept;
  /// Calls w->write_deferred() when the outermost deferral on this thread ends, or earlier
  /// (after a few handlers, so that a long actor job does not hold pushes back). Only while
  /// active().
  static void defer(std::shared_ptr<deferred_writer> w);
  /// A handler finished inside the open deferral: after a few of them, what they deferred is
  /// written, so one client's pushes never wait for a whole mailbox of other work.
  static void handler_done();
};

} // namespace nanocaf
