#include "detail/connection.hpp"
#include "detail/connection_outlet.hpp"
#include "detail/ws_framing.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "nanocaf/codec/websocket.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/wiring/runtime.hpp"

namespace nanocaf::detail {

serial_executor make_serial_executor(boost::asio::io_context& ioc, std::size_t threads) {
  if (threads <= 1)
    return ioc.get_executor();
  return boost::asio::make_strand(ioc);
}

std::array<char, 64 * 1024>& thread_read_buffer() {
  static thread_local std::array<char, 64 * 1024> buffer;
  return buffer;
}

connection::connection(serial_executor ex, std::string remote, settings s,
                       connection_registry* registry, std::shared_ptr<gateway_liveness> live,
                       transport_metrics& stats)
  : ex_(std::move(ex)),
    remote_(std::move(remote)),
    write_queue_limit_(s.write_queue),
    registry_(registry),
    live_(std::move(live)),
    stats_(stats),
    decoder_(s.max_packet_body) {}

connection::~connection() = default;

void connection::start(runtime& rt) {
  stats_.accepted.inc();
  stats_.open.add();
  inbound_ = wiring::open_session(rt, std::make_shared<connection_outlet>(weak_from_this(), remote_, live_));
  boost::asio::post(ex_, [self = shared_from_this()] { self->start_reading(); });
}

void connection::use_websocket_framing(std::uint64_t max_message) {
  ws_ = std::make_unique<ws_framing>(max_message);
}

namespace {

// What a connection holds back for a deferral at most; past it, what it holds is written.
constexpr std::size_t max_held_bytes = 64 * 1024;

// One packet per binary message (spec 1.1). A broadcast sends the same packet to every member:
// its frame is built once per thread and shared, as the packet is.
shared_bytes websocket_message(const shared_bytes& packet) {
  thread_local shared_bytes last_packet, last_frame;
  if (packet != last_packet) {
    last_frame = std::make_shared<const std::string>(ws_framing::frame(ws_framing::op_binary, *packet));
    last_packet = packet->size() <= 64 * 1024 ? packet : nullptr; // a big one is not kept
  }
  auto frame = last_frame;
  if (!last_packet)
    last_frame = nullptr;
  return frame;
}

} // namespace

void connection::send(shared_bytes packet) {
  if (ws_)
    packet = websocket_message(packet);
  enqueue(std::move(packet));
}

bool connection::send_or_hold(shared_bytes packet) {
  if (ws_)
    packet = websocket_message(packet);
  return enqueue(std::move(packet), true);
}

void connection::write_held() {
  bool post_flush = false;
  {
    std::lock_guard<std::mutex> guard{mu_};
    if (!deferred_)
      return;
    // A kick or a full queue took over meanwhile, or the strand is writing: nothing to do.
    if (closed_ || close_after_flush_ || write_in_flight_ || flush_posted_) {
      deferred_ = false;
      return;
    }
    write_held_locked();
    if (!pending_.empty())
      post_flush = flush_posted_ = true; // the socket is full (or cannot write at once)
  }
  if (post_flush)
    boost::asio::post(ex_, [self = shared_from_this()] { self->flush(); });
}

void connection::write_held_locked() {
  deferred_ = false;
  if (pending_.empty())
    return;
  std::ptrdiff_t n;
  if (pending_.size() == 1) {
    n = write_now(*pending_.front());
  } else {
    thread_local std::string joined; // everything held, for one send(2)
    joined.clear();
    for (auto& p : pending_)
      joined += *p;
    n = write_now(joined);
    if (joined.capacity() > 64 * 1024)
      std::string{}.swap(joined);
  }
  if (n > 0) {
    stats_.bytes_out.inc(static_cast<std::uint64_t>(n));
    stats_.writes.inc();
    consume_pending(static_cast<std::size_t>(n));
  }
}

void connection::consume_pending(std::size_t n) {
  queued_bytes_ -= std::min(n, queued_bytes_);
  std::size_t whole = 0;
  while (whole < pending_.size() && pending_[whole]->size() <= n)
    n -= pending_[whole++]->size();
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(whole));
  if (n > 0 && !pending_.empty())
    pending_.front() = std::make_shared<const std::string>(pending_.front()->substr(n));
}

void connection::send_copy(std::string_view packet) {
  if (!ws_) {
    enqueue(packet, nullptr);
    return;
  }
  thread_local std::string framed; // the frame is built here, and copied only if it waits
  framed.clear();
  codec::append_websocket_frame(ws_framing::op_binary, packet, framed);
  enqueue(framed, nullptr);
  if (framed.capacity() > 64 * 1024)
    std::string{}.swap(framed); // a rare big packet does not stay with the thread
}

bool connection::enqueue(shared_bytes packet, bool may_defer) {
  std::string_view bytes{*packet};
  return enqueue(bytes, std::move(packet), may_defer);
}

bool connection::enqueue(std::string_view bytes, shared_bytes owned, bool may_defer) {
  bool post_flush = false;
  bool hold = false;
  {
    std::lock_guard<std::mutex> guard{mu_};
    if (closed_ || close_after_flush_)
      return false;
    const bool idle = !write_in_flight_ && !flush_posted_ && pending_.empty();
    hold = idle && may_defer && owned && owned->size() < max_held_bytes;
    // Idle connection: write straight away from this thread, saving the hop to the strand
    // and the asynchronous write (most replies go out this way). finish() sets closed_ under
    // this lock before the socket is closed, so the descriptor is still ours here.
    if (idle && !hold) {
      auto n = write_now(bytes);
      if (n > 0) {
        stats_.bytes_out.inc(static_cast<std::uint64_t>(n));
        stats_.writes.inc();
        if (static_cast<std::size_t>(n) == bytes.size())
          return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
        // What is left is copied before the packet is let go: `bytes` points into it, and
        // this may be its last reference (ASan saw the copy read freed memory).
        owned = std::make_shared<const std::string>(bytes);
        bytes = *owned;
      }
    }
    shared_bytes packet = owned ? std::move(owned) : std::make_shared<const std::string>(bytes);
    queued_bytes_ += packet->size();
    if (queued_bytes_ > write_queue_limit_) {
      closed_ = true;
      pending_.clear();
      stats_.write_queue_closes.inc();
      boost::asio::post(ex_, [self = shared_from_this()] {
        self->fail("write queue over its bound: the peer does not read");
      });
      return false;
    }
    pending_.push_back(std::move(packet));
    if (hold) {
      deferred_ = true;
      return true;
    }
    // Held packets are written by the deferral that holds them, soon: join them, up to a
    // point (a handler pushing megabytes to a client that reads them must not hit the bound).
    if (deferred_ && !write_in_flight_ && !flush_posted_ && queued_bytes_ >= max_held_bytes) {
      write_held_locked();
      if (!pending_.empty())
        post_flush = flush_posted_ = true;
    } else if (!write_in_flight_ && !flush_posted_ && !deferred_) {
      post_flush = flush_posted_ = true;
    }
  }
  if (post_flush)
    boost::asio::post(ex_, [self = shared_from_this()] { self->flush(); });
  return false;
}

void connection::kick(shared_bytes kick_packet) {
  if (ws_) // the kick, then a close frame, so that browsers see a clean close
    kick_packet = std::make_shared<const std::string>(
      ws_framing::frame(ws_framing::op_binary, *kick_packet) + ws_framing::close_frame(1000));
  end_after(std::move(kick_packet), "kicked");
}

void connection::end_after(shared_bytes last, std::string reason) {
  bool post_flush = false;
  {
    std::lock_guard<std::mutex> guard{mu_};
    if (closed_ || close_after_flush_)
      return;
    // It may exceed the bound: it is the last thing this connection sends.
    queued_bytes_ += last->size();
    pending_.push_back(std::move(last));
    close_after_flush_ = true;
    end_reason_ = std::move(reason);
    if (!write_in_flight_ && !flush_posted_)
      post_flush = flush_posted_ = true;
  }
  if (post_flush)
    boost::asio::post(ex_, [self = shared_from_this()] { self->flush(); });
}

void connection::close() {
  {
    std::lock_guard<std::mutex> guard{mu_};
    // Pushes held for the end of this job were sent before the close: they go first, as
    // they would have without the deferral (what the socket does not take at once is lost).
    if (deferred_ && !closed_ && !write_in_flight_ && !flush_posted_)
      write_held_locked();
    closed_ = true;
    pending_.clear();
  }
  boost::asio::post(ex_, [self = shared_from_this()] { self->finish("closed by the server"); });
}

void connection::flush() {
  bool kicked_and_drained = false;
  std::string reason;
  {
    std::lock_guard<std::mutex> guard{mu_};
    flush_posted_ = false;
    if (finished_ || write_in_flight_)
      return;
    if (pending_.empty()) {
      kicked_and_drained = close_after_flush_;
      reason = end_reason_;
    } else {
      writing_.swap(pending_);
      write_in_flight_ = true;
    }
  }
  if (kicked_and_drained) {
    finish(reason, true);
    return;
  }
  if (write_in_flight_)
    write_batch(writing_);
}

void connection::on_written(const boost::system::error_code& ec) {
  std::size_t written = 0;
  for (auto& p : writing_)
    written += p->size();
  writing_.clear();
  stats_.bytes_out.inc(written);
  stats_.writes.inc();
  {
    std::lock_guard<std::mutex> guard{mu_};
    write_in_flight_ = false;
    queued_bytes_ -= std::min(written, queued_bytes_);
  }
  if (ec) {
    fail("write failed: " + ec.message());
    return;
  }
  flush();
}

bool connection::on_bytes(std::string_view bytes) {
  if (finished_ || !inbound_)
    return false;
  stats_.bytes_in.inc(bytes.size());
  return decode(bytes);
}

bool connection::on_received(char* data, std::size_t n) {
  if (!ws_)
    return on_bytes({data, n});
  if (finished_ || !inbound_)
    return false;
  stats_.bytes_in.inc(n);
  ws_framing::output out;
  ws_->feed(data, n, out);
  if (out.control_frames != 0 && !inbound_->control_frames(out.control_frames))
    return false; // over its budget: it is being kicked, nothing more is read
  // Pongs go out before the answers to what this read carried: they are due at once.
  if (!out.closing && !out.replies.empty())
    enqueue(std::make_shared<const std::string>(std::move(out.replies)));
  for (auto payload : out.data)
    if (!decode(payload))
      return false;
  if (out.closing) {
    end_after(std::make_shared<const std::string>(std::move(out.replies)), std::move(out.reason));
    return false;
  }
  return true;
}

bool connection::decode(std::string_view bytes) {
  // One packet list per Asio thread, reused read after read: deliver() takes the packets
  // before it returns, and no connection holds a list while idle.
  thread_local std::vector<codec::packet> packets;
  auto err = decoder_.feed(bytes, packets);
  if (!packets.empty())
    inbound_->deliver(packets);
  if (err != codec::error::none) {
    // The packets before the error are still handled; then the session closes us.
    inbound_->failed(std::string{"bad packet: "} + codec::to_string(err));
    return false;
  }
  return true;
}

void log_refused(const std::string& who) {
  static log::throttle lines;
  if (std::uint64_t skipped = 0; lines.allow(skipped))
    log::warn("refused ", who, ": connection limit reached",
              skipped ? " (and " + std::to_string(skipped) + " more since the last such line)" : "");
}

void connection::fail(const std::string& reason) {
  if (!finished_) // the connection says it: the session cannot tell a failure from an end
    log::info("connection ", remote_address(), " closed: ", reason);
  finish(reason);
}

void connection::finish(const std::string& reason, bool graceful) {
  if (finished_)
    return;
  finished_ = true;
  {
    std::lock_guard<std::mutex> guard{mu_};
    closed_ = true;
    pending_.clear();
  }
  shutdown_transport(graceful);
  if (inbound_) {
    stats_.open.sub();
    inbound_->closed(reason);
    inbound_.reset(); // drop the session actor handle: nothing is delivered after this
  }
  if (registry_)
    registry_->remove(this);
}

bool connection_registry::add(const std::shared_ptr<connection>& c, std::size_t max) {
  std::lock_guard<std::mutex> guard{mu_};
  if (max != 0 && items_.size() >= max)
    return false;
  items_.emplace(c.get(), c);
  return true;
}

void connection_registry::remove(connection* c) {
  std::lock_guard<std::mutex> guard{mu_};
  items_.erase(c);
}

std::vector<std::shared_ptr<connection>> connection_registry::snapshot() const {
  std::lock_guard<std::mutex> guard{mu_};
  std::vector<std::shared_ptr<connection>> out;
  out.reserve(items_.size());
  for (auto& [key, weak] : items_)
    if (auto c = weak.lock())
      out.push_back(std::move(c));
  return out;
}

std::size_t connection_registry::size() const {
  std::lock_guard<std::mutex> guard{mu_};
  return items_.size();
}

} // namespace nanocaf::detail
