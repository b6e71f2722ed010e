// raw-echo: the ceiling of our stack for the echo benchmark. The same framing as nano
// (handshake, ack, heartbeat, data), one Asio thread, no actors, no routing, no sessions, no
// JSON: every Request is answered with a Response carrying its payload, and all replies to one
// read leave in one write. Over TCP, and over WebSocket (a bare RFC 6455 server: the upgrade,
// masked frames in, one binary frame per packet out, as nanocaf sends them).
// Compare nanocaf against it in the same run.
// Usage: raw-echo [TCP_PORT [WS_PORT]]     (defaults 3270 and none)
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "nanocaf/codec/message.hpp"
#include "nanocaf/codec/packet.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
namespace codec = nanocaf::codec;

namespace {

const std::string& handshake_reply() {
  static const std::string packet = [] {
    std::string out;
    codec::encode_packet(codec::packet_type::handshake,
                         R"({"code":200,"sys":{"heartbeat":30,"servertime":0}})", out);
    return out;
  }();
  return packet;
}

// Answers what one read carried: a handshake reply, and a Response per Request. `frame` wraps
// each packet for the transport (identity over TCP).
template <class Frame>
void answer(std::vector<codec::packet>& packets, std::string& out, Frame frame) {
  codec::message msg;
  std::string packet;
  for (auto& p : packets) {
    packet.clear();
    if (p.type == codec::packet_type::handshake) {
      packet = handshake_reply();
    } else if (p.type == codec::packet_type::data
               && codec::decode_message(p.body, nullptr, msg) == codec::error::none
               && msg.type == codec::message_type::request) {
      codec::encode_data_packet(codec::message_type::response, msg.id, {}, msg.payload, nullptr,
                                packet);
    }
    if (!packet.empty())
      frame(packet, out);
  }
  packets.clear();
}

class connection : public std::enable_shared_from_this<connection> {
public:
  explicit connection(tcp::socket s) : socket_(std::move(s)) {
    socket_.set_option(tcp::no_delay(true));
  }
  void start() { read(); }

private:
  void read() {
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](
                                                  boost::system::error_code ec, std::size_t n) {
      if (ec)
        return;
      self->on_bytes(n);
    });
  }

  void on_bytes(std::size_t n) {
    if (decoder_.feed(std::string_view{buf_.data(), n}, packets_) != codec::error::none)
      return; // drop the connection
    out_.clear();
    answer(packets_, out_, [](const std::string& p, std::string& out) { out += p; });
    if (out_.empty()) {
      read();
      return;
    }
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!ec)
                          self->read();
                      });
  }

  tcp::socket socket_;
  std::array<char, 4096> buf_;
  codec::stream_decoder decoder_;
  std::vector<codec::packet> packets_;
  std::string out_;
};

// Sec-WebSocket-Accept for a key (RFC 6455 4.2.2).
std::string websocket_accept(const std::string& key) {
  std::string text = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int len = EVP_EncodeBlock(b64, digest, SHA_DIGEST_LENGTH);
  return {reinterpret_cast<char*>(b64), static_cast<std::size_t>(len)};
}

void websocket_frame(const std::string& payload, std::string& out) {
  out.push_back(static_cast<char>(0x82)); // FIN, binary
  auto n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
  }
  out += payload;
}

class ws_connection : public std::enable_shared_from_this<ws_connection> {
public:
  explicit ws_connection(tcp::socket s) : socket_(std::move(s)) {
    socket_.set_option(tcp::no_delay(true));
  }
  void start() { read(); }

private:
  void read() {
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](
                                                  boost::system::error_code ec, std::size_t n) {
      if (ec)
        return;
      self->in_.append(self->buf_.data(), n);
      if (self->on_bytes())
        self->write_or_read();
    });
  }

  void write_or_read() {
    if (out_.empty()) {
      read();
      return;
    }
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->out_.clear();
                        if (!ec)
                          self->read();
                      });
  }

  // false: drop the connection.
  bool on_bytes() {
    if (!upgraded_) {
      auto end = in_.find("\r\n\r\n");
      if (end == std::string::npos)
        return in_.size() < 8192;
      std::string head = in_.substr(0, end);
      std::string lower = head;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto at = lower.find("sec-websocket-key:");
      if (at == std::string::npos)
        return false;
      auto from = head.find_first_not_of(' ', at + 18);
      auto to = head.find("\r\n", from);
      out_ = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Accept: "
             + websocket_accept(head.substr(from, to - from)) + "\r\n\r\n";
      in_.erase(0, end + 4);
      upgraded_ = true;
    }
    // Whole frames only: client frames are masked (RFC 6455 5.3).
    std::size_t pos = 0;
    while (in_.size() - pos >= 2) {
      auto b0 = static_cast<unsigned char>(in_[pos]);
      auto b1 = static_cast<unsigned char>(in_[pos + 1]);
      std::size_t len = b1 & 0x7F, head = 2;
      if (len == 126) {
        if (in_.size() - pos < 4)
          break;
        len = (std::size_t{static_cast<unsigned char>(in_[pos + 2])} << 8)
              | static_cast<unsigned char>(in_[pos + 3]);
        head = 4;
      } else if (len == 127) {
        if (in_.size() - pos < 10)
          break;
        len = 0;
        for (int i = 0; i < 8; ++i)
          len = (len << 8) | static_cast<unsigned char>(in_[pos + 2 + i]);
        head = 10;
      }
      if (!(b1 & 0x80) || len > (1u << 24))
        return false;
      if (in_.size() - pos < head + 4 + len)
        break;
      const char* mask = &in_[pos + head];
      char* payload = &in_[pos + head + 4];
      for (std::size_t i = 0; i < len; ++i)
        payload[i] ^= mask[i & 3];
      auto opcode = b0 & 0x0F;
      if (opcode == 0x8)
        return false; // close
      if (opcode <= 0x2 && decoder_.feed(std::string_view{payload, len}, packets_)
                             != codec::error::none)
        return false;
      pos += head + 4 + len;
    }
    in_.erase(0, pos);
    answer(packets_, out_, websocket_frame);
    return true;
  }

  tcp::socket socket_;
  std::array<char, 4096> buf_;
  std::string in_;
  bool upgraded_ = false;
  codec::stream_decoder decoder_;
  std::vector<codec::packet> packets_;
  std::string out_;
};

template <class Connection>
void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](boost::system::error_code ec, tcp::socket s) {
    if (!ec)
      std::make_shared<Connection>(std::move(s))->start();
    accept<Connection>(acceptor);
  });
}

} // namespace

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::stoi(argv[1])) : 3270;
  unsigned short ws_port = argc > 2 ? static_cast<unsigned short>(std::stoi(argv[2])) : 0;
  asio::io_context ioc{1};
  auto loopback = asio::ip::make_address("127.0.0.1");
  tcp::acceptor acceptor{ioc, {loopback, port}};
  accept<connection>(acceptor);
  std::cout << "raw-echo: tcp " << port;
  std::unique_ptr<tcp::acceptor> ws_acceptor;
  if (ws_port != 0) {
    ws_acceptor = std::make_unique<tcp::acceptor>(ioc, tcp::endpoint{loopback, ws_port});
    accept<ws_connection>(*ws_acceptor);
    std::cout << ", websocket " << ws_port;
  }
  std::cout << std::endl;
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](auto, auto) { ioc.stop(); });
  ioc.run();
  return 0;
}
