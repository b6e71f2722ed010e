#include "bench_connection.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace nanocaf::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct bench_connection::ws_stream {
  explicit ws_stream(tcp::socket s) : ws(std::move(s)) { ws.binary(true); }
  websocket::stream<tcp::socket> ws;
  beast::flat_buffer buf;
};

bench_connection::bench_connection(asio::io_context& ioc, std::size_t index, const target& where,
                                   const connection_events& events)
  : ioc_(ioc), index_(index), where_(where), events_(events), socket_(ioc) {}

bench_connection::~bench_connection() = default;

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
  open_ = true;
  beast::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (!where_.websocket) {
    send_handshake();
    read();
    return;
  }
  ws_ = std::make_unique<ws_stream>(std::move(socket_));
  ws_->ws.async_handshake(where_.host, where_.path,
                          [self = shared_from_this()](const beast::error_code& ec) {
                            if (ec) {
                              self->fail("websocket upgrade: " + ec.message());
                              return;
                            }
                            self->send_handshake();
                            self->read();
                          });
}

void bench_connection::send_handshake() {
  std::string packet;
  codec::encode_packet(codec::packet_type::handshake,
                       R"({"sys":{"type":"nanocaf-bench","version":"0.1.0"},"user":{}})", packet);
  send(std::move(packet));
}

void bench_connection::read() {
  if (!open_ || !reading_)
    return;
  auto self = shared_from_this();
  if (ws_) {
    ws_->ws.async_read(ws_->buf, [self](const beast::error_code& ec, std::size_t) {
      if (ec) {
        self->fail(ec.message());
        return;
      }
      auto data = self->ws_->buf.cdata();
      self->on_bytes(static_cast<const char*>(data.data()), data.size());
      self->ws_->buf.consume(self->ws_->buf.size());
      self->read();
    });
    return;
  }
  socket_.async_read_some(asio::buffer(buf_), [self](const beast::error_code& ec, std::size_t n) {
    if (ec) {
      self->fail(ec == asio::error::eof ? "closed by the server" : ec.message());
      return;
    }
    self->on_bytes(self->buf_, n);
    self->read();
  });
}

void bench_connection::on_bytes(const char* data, std::size_t n) {
  std::vector<codec::packet> packets;
  if (decoder_.feed({data, n}, packets) != codec::error::none) {
    fail("bad packet from the server");
    return;
  }
  for (auto& p : packets) {
    switch (p.type) {
      case codec::packet_type::handshake: {
        std::string ack;
        codec::encode_packet(codec::packet_type::handshake_ack, "", ack);
        send(std::move(ack));
        ready_ = true;
        events_.ready(index_);
        break;
      }
      case codec::packet_type::heartbeat: { // answered at once, like nano's clients
        std::string hb;
        codec::encode_packet(codec::packet_type::heartbeat, "", hb);
        send(std::move(hb));
        break;
      }
      case codec::packet_type::data: {
        codec::message m;
        if (codec::decode_message(p.body, nullptr, m) == codec::error::none)
          events_.message(index_, m);
        break;
      }
      case codec::packet_type::kick:
        fail("kicked: " + p.body);
        return;
      case codec::packet_type::handshake_ack:
        break;
    }
  }
}

void bench_connection::stop_reading() {
  reading_ = false;
  beast::error_code ignored;
  auto& s = ws_ ? beast::get_lowest_layer(ws_->ws) : socket_;
  s.set_option(asio::socket_base::receive_buffer_size(4096), ignored);
}

void bench_connection::send(std::string packet) {
  if (!open_)
    return;
  out_.push_back(std::move(packet));
  if (!writing_)
    write_next();
}

void bench_connection::write_next() {
  if (out_.empty() || !open_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  auto self = shared_from_this();
  if (ws_) { // one packet per message, as browsers send them
    ws_->ws.async_write(asio::buffer(out_.front()),
                        [self](const beast::error_code& ec, std::size_t) {
                          if (ec)
                            return self->fail(ec.message());
                          self->out_.pop_front();
                          self->write_next();
                        });
    return;
  }
  // Everything queued in one write.
  auto batch = std::make_shared<std::string>();
  for (auto& p : out_)
    *batch += p;
  out_.clear();
  asio::async_write(socket_, asio::buffer(*batch),
                    [self, batch](const beast::error_code& ec, std::size_t) {
                      if (ec)
                        return self->fail(ec.message());
                      self->write_next();
                    });
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
  open_ = false;
  ready_ = false;
  beast::error_code ignored;
  if (ws_)
    beast::get_lowest_layer(ws_->ws).close(ignored);
  else
    socket_.close(ignored);
}

} // namespace nanocaf::bench
