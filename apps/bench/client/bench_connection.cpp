#include "bench_connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <boost/beast/websocket.hpp>

#include <nanocaf/codec/websocket.hpp>

namespace nanocaf::bench {

namespace {
constexpr std::size_t max_backlog = 1u << 20; // unsent bytes past which the driver holds back
constexpr std::size_t max_unsent = 16u << 20; // past which the connection is given up
} // namespace

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct bench_connection::ws_stream {
  explicit ws_stream(tcp::socket s) : ws(std::move(s)) {}
  websocket::stream<tcp::socket> ws;
};

bench_connection::bench_connection(asio::io_context& ioc, poller& p, std::size_t index,
                                   const target& where, const connection_events& events)
  : poller_(p), index_(index), where_(where), events_(events), socket_(ioc),
    mask_state_(static_cast<std::uint32_t>(index * 2654435761u) | 1u) {}

bench_connection::~bench_connection() {
  if (fd_ >= 0)
    ::close(fd_);
}

void bench_connection::start() {
  socket_.async_connect(where_.endpoint, [self = shared_from_this()](const beast::error_code& ec) {
    if (ec) {
      self->fail("connect: " + ec.message());
      return;
    }
    self->on_connected();
  });
}

void bench_connection::on_connected() {
  beast::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (!where_.websocket) {
    adopt(socket_);
    return;
  }
  ws_ = std::make_unique<ws_stream>(std::move(socket_));
  ws_->ws.async_handshake(where_.host, where_.path,
                          [self = shared_from_this()](const beast::error_code& ec) {
                            if (ec) {
                              self->fail("websocket upgrade: " + ec.message());
                              return;
                            }
                            // The server sends nothing before our handshake packet: Beast
                            // holds no bytes of it.
                            self->websocket_ = true;
                            self->adopt(beast::get_lowest_layer(self->ws_->ws));
                          });
}

void bench_connection::adopt(tcp::socket& s) {
  if (done_)
    return;
  beast::error_code ec;
  s.non_blocking(true, ec);
  fd_ = s.release(ec);
  ws_.reset();
  if (ec || fd_ < 0 || !poller_.add(fd_, shared_from_this())) {
    fail("cannot poll the socket");
    return;
  }
  send_handshake();
}

void bench_connection::send_handshake() {
  std::string packet;
  codec::encode_packet(codec::packet_type::handshake,
                       R"({"sys":{"type":"nanocaf-bench","version":"0.1.0"},"user":{}})", packet);
  send(packet);
}

void bench_connection::on_readable() {
  if (done_)
    return;
  if (!reading_) { // a hang-up or error of a client that stopped reading: not reported
    poller_.remove(fd_);
    return;
  }
  // Level-triggered: one read, what it leaves is reported again.
  auto n = ::recv(fd_, buf_, sizeof buf_, 0);
  if (n > 0) {
    on_bytes(buf_, static_cast<std::size_t>(n));
    return;
  }
  if (n == 0)
    fail("closed by the server");
  else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    fail(std::strerror(errno));
}

void bench_connection::on_bytes(const char* data, std::size_t n) {
  if (!websocket_) {
    on_packets(data, n);
    return;
  }
  ws_data_.clear();
  auto r = frames_.feed({data, n}, ws_data_, pings_);
  for (auto& ping : pings_) {
    ws_frame_.clear();
    codec::append_masked_websocket_frame(static_cast<std::uint8_t>(ws_opcode::pong), ping,
                                         next_mask(), ws_frame_);
    write(ws_frame_);
  }
  pings_.clear();
  if (r == ws_frame_reader::result::closed)
    return fail("closed by the server");
  if (r == ws_frame_reader::result::bad)
    return fail("bad websocket frame from the server");
  if (!ws_data_.empty())
    on_packets(ws_data_.data(), ws_data_.size());
}

void bench_connection::on_packets(const char* data, std::size_t n) {
  packets_.clear();
  if (decoder_.feed({data, n}, packets_) != codec::error::none) {
    fail("bad packet from the server");
    return;
  }
  codec::message m;
  for (auto& p : packets_) {
    if (done_)
      return;
    switch (p.type) {
      case codec::packet_type::handshake: {
        std::string ack;
        codec::encode_packet(codec::packet_type::handshake_ack, "", ack);
        send(ack);
        ready_ = true;
        events_.ready(index_);
        break;
      }
      case codec::packet_type::heartbeat: { // answered at once, like nano's clients
        std::string hb;
        codec::encode_packet(codec::packet_type::heartbeat, "", hb);
        send(hb);
        break;
      }
      case codec::packet_type::data:
        if (codec::decode_message(std::move(p.body), nullptr, m) == codec::error::none)
          events_.message(index_, m);
        break;
      case codec::packet_type::kick:
        fail("kicked: " + p.body);
        return;
      case codec::packet_type::handshake_ack:
        break;
    }
  }
}

void bench_connection::stop_reading() {
  if (done_ || fd_ < 0)
    return;
  reading_ = false;
  int size = 4096; // the kernel then holds little on its behalf
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  poller_.watch(fd_, false, !unsent_.empty());
}

std::uint32_t bench_connection::next_mask() {
  mask_state_ ^= mask_state_ << 13;
  mask_state_ ^= mask_state_ >> 17;
  mask_state_ ^= mask_state_ << 5;
  return mask_state_;
}

bool bench_connection::is_backlogged() const { return unsent_.size() >= max_backlog; }

void bench_connection::send(std::string_view packet) {
  if (fd_ < 0) // not adopted yet, or shut
    return;
  if (!websocket_) {
    write(packet);
    return;
  }
  ws_frame_.clear(); // one packet per message, as browsers send them
  codec::append_masked_websocket_frame(static_cast<std::uint8_t>(ws_opcode::binary), packet,
                                       next_mask(), ws_frame_);
  write(ws_frame_);
}

// At once when nothing waits; what the socket does not take waits for writability, in order.
void bench_connection::write(std::string_view bytes) {
  if (done_)
    return;
  if (!unsent_.empty()) {
    // The driver stops at max_backlog; only the replies to a server that sends (pongs,
    // heartbeats) but does not read could pile up past it.
    if (unsent_.size() + bytes.size() > max_unsent)
      return fail("the server does not read what this client sends");
    unsent_.append(bytes);
    return;
  }
  auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return fail(std::strerror(errno));
    n = 0;
  }
  if (static_cast<std::size_t>(n) == bytes.size())
    return;
  unsent_.assign(bytes.substr(static_cast<std::size_t>(n)));
  poller_.watch(fd_, reading_, true);
}

void bench_connection::on_writable() {
  if (done_ || unsent_.empty())
    return;
  auto n = ::send(fd_, unsent_.data(), unsent_.size(), MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      fail(std::strerror(errno));
    return;
  }
  unsent_.erase(0, static_cast<std::size_t>(n));
  if (unsent_.empty())
    poller_.watch(fd_, reading_, false);
}

void bench_connection::fail(const std::string& why) {
  if (done_)
    return;
  bool was_ready = ready_;
  shut();
  if (was_ready)
    events_.dropped(index_, why);
  else
    events_.failed(index_, why);
}

void bench_connection::close() {
  if (done_)
    return;
  shut(); // what the aborted operations then report is not a failure
}

void bench_connection::shut() {
  done_ = true;
  ready_ = false;
  beast::error_code ignored;
  if (fd_ >= 0) {
    poller_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  } else if (ws_) {
    beast::get_lowest_layer(ws_->ws).close(ignored);
  } else {
    socket_.close(ignored);
  }
}

} // namespace nanocaf::bench
