// What TCP and WebSocket connections share: the session outlet with a bounded write queue that
// coalesces whatever is queued into one write, a once-only close, and (for WebSocket clients
// on a plain socket) the WebSocket framing.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>

#include "detail/gateway_metrics.hpp"
#include "nanocaf/codec/packet.hpp"
#include "nanocaf/wiring/outlet.hpp"
#include "nanocaf/runtime.hpp"
#include "nanocaf/wiring/runtime.hpp"

namespace nanocaf::detail {

/// What runs one connection's handlers one at a time ("the strand" in comments): a real strand
/// when several threads run the gateway's io_context, the io_context's own executor when one
/// thread does. Its handlers never overlap then, and a strand would only add a queue, a lock
/// and an allocated operation to every completion (about 1,000 instructions per request).
using serial_executor = boost::asio::any_io_executor;

/// The serial executor for a new connection on `ioc`, run by `threads` threads.
serial_executor make_serial_executor(boost::asio::io_context& ioc, std::size_t threads);

/// Where connections read into: one buffer per Asio thread, as a read is handed on before the
/// next handler runs, so that an idle connection holds none.
std::array<char, 64 * 1024>& thread_read_buffer();

/// After a kick the connection reads until the peer's FIN (closing with unread input would
/// send RST and could destroy the kick in flight), but not more than this: a peer that keeps
/// sending is cut off rather than read for the whole linger.
inline constexpr std::size_t max_linger_bytes = 64 * 1024;

/// "refused <who>: connection limit reached", at most one line a second for the whole
/// gateway (a flood of connections would otherwise write one line each).
void log_refused(const std::string& who);

class connection_registry;
class ws_framing;

class connection : public outlet, public std::enable_shared_from_this<connection> {
public:
  struct settings {
    std::size_t write_queue = 4u << 20;
    std::size_t max_packet_body = codec::default_max_packet_body;
    /// Set when one Asio thread runs the gateway: its plain TCP sockets are polled there
    /// (polled_tcp_connection).
    class poller* client_poller = nullptr;
  };

  connection(serial_executor ex, std::string remote, settings s, connection_registry* registry,
             std::shared_ptr<struct gateway_liveness> live, transport_metrics& stats);
  ~connection() override;

  /// Opens the session and starts reading. Called once, right after construction.
  void start(runtime& rt);
  /// Speaks WebSocket frames over the transport (after the HTTP upgrade); before start().
  void use_websocket_framing(std::uint64_t max_message);

  void send(shared_bytes packet) override;
  /// Holds the packet when nothing is queued, with whatever else is sent meanwhile (up to
  /// 64 KiB), until write_held(): in one system call when the socket takes it all.
  bool send_or_hold(shared_bytes packet) override;
  void write_held() override;
  void send_copy(std::string_view packet) override;
  void kick(shared_bytes kick_packet) override;
  void close() override;
  const std::string& remote_address() const override { return remote_; }

protected:
  /// Transport hooks, all called on the strand.
  virtual void start_reading() = 0;
  /// Writes `batch` in order, then calls on_written.
  virtual void write_batch(const std::vector<shared_bytes>& batch) = 0;
  /// Closes the socket; `graceful` after a kick (WebSocket sends a close frame).
  virtual void shutdown_transport(bool graceful) = 0;
  /// Writes what it can of `bytes` at once, without blocking, on the calling (any) thread;
  /// called with the queue lock held while nothing is queued or being written, so order is
  /// kept. Returns the bytes written, or -1 when the transport cannot (framing, TLS) or the
  /// socket would block: the packet is then queued for the strand as usual.
  virtual std::ptrdiff_t write_now(std::string_view /*bytes*/) { return -1; }

  /// Feeds bytes read from the peer to the decoder and the packets to the session.
  /// false when the stream is broken (the session has been told and will close).
  bool on_bytes(std::string_view bytes);
  /// The same for transports that may carry WebSocket frames (unmasked in place); false also
  /// when the peer closed or broke the WebSocket protocol: its close frame is answered, then
  /// the connection ends.
  bool on_received(char* data, std::size_t n);
  void on_written(const boost::system::error_code& ec);
  /// Ends the connection once: closes the transport and tells the session why.
  void finish(const std::string& reason, bool graceful = false);
  /// finish() for a failure (a full write queue, a failed read or write or handshake): logged
  /// here, with the peer's address, once.
  void fail(const std::string& reason);
  bool finished() const noexcept { return finished_; }

  serial_executor ex_;

private:
  void flush(); // on the strand
  bool decode(std::string_view bytes);
  /// Queues `packet` (already framed) for writing; any thread. With `may_defer`, an idle
  /// connection holds it back instead of writing at once and returns true (see send_or_hold).
  bool enqueue(shared_bytes packet, bool may_defer = false);
  /// The same for `bytes`, which are `owned` when that is set, and copied if they must wait.
  bool enqueue(std::string_view bytes, shared_bytes owned, bool may_defer = false);
  /// Drops the first `n` bytes of pending_ (written at once); what is left of a packet written
  /// in part is copied. Queue lock held.
  void consume_pending(std::size_t n);
  /// Writes the held packets at once, as far as the socket takes them. Queue lock held.
  void write_held_locked();
  /// Queues `last`, then ends the connection with `reason` once it is written.
  void end_after(shared_bytes last, std::string reason);

  const std::string remote_;
  const std::size_t write_queue_limit_;
  connection_registry* registry_;
  std::shared_ptr<struct gateway_liveness> live_;
  transport_metrics& stats_; // in the runtime's registry, which outlives every connection
  codec::stream_decoder decoder_;
  std::unique_ptr<ws_framing> ws_; // set before start(), then only read
  std::unique_ptr<wiring::inbound> inbound_;
  bool finished_ = false; // strand only

  std::mutex mu_; // guards the queue: send() is called from any actor's thread
  std::vector<shared_bytes> pending_;
  std::vector<shared_bytes> writing_;
  std::size_t queued_bytes_ = 0;
  bool write_in_flight_ = false;
  bool flush_posted_ = false;
  bool deferred_ = false; // pending_ is held for a write_held() to come: no flush posted
  bool close_after_flush_ = false;
  std::string end_reason_; // why, once close_after_flush_
  bool closed_ = false;
};

/// Live connections of a gateway, so that stop() can kick them all.
class connection_registry {
public:
  /// false when the limit is reached (the connection must then be closed at once).
  bool add(const std::shared_ptr<connection>& c, std::size_t max);
  void remove(connection* c);
  std::vector<std::shared_ptr<connection>> snapshot() const;
  std::size_t size() const;

private:
  mutable std::mutex mu_;
  std::unordered_map<connection*, std::weak_ptr<connection>> items_;
};

} // namespace nanocaf::detail
