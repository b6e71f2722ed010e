// raw-echo: the ceiling of our stack for the echo and broadcast benchmarks. The same framing as
// nano (handshake, ack, heartbeat, data), one Asio thread, no actors, no sessions, no JSON:
// every Request is answered with a Response carrying its payload, and all replies to one read
// leave in one write. Over TCP, and over WebSocket (a bare RFC 6455 server: the upgrade, masked
// frames in, one binary frame per packet out, as nanocaf sends them).
// Two routes are recognised, for the broadcast benchmark: bench.join adds the connection to the
// one group and answers {"code":0,"members":N}; bench.broadcast pushes its body on onBroadcast
// to every member (encoded once, one write per member unless a write to it is under way) and
// answers {"code":0}.
// Compare nanocaf against it in the same run.
// Usage: raw-echo [TCP_PORT [WS_PORT]]     (defaults 3270 and none)
#include <cstdlib>
#include <cerrno>
#include <string_view>
#include <optional>
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>

#include "nanocaf/codec/message.hpp"
#include "nanocaf/codec/packet.hpp"
#include "nanocaf/codec/websocket.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
namespace codec = nanocaf::codec;

namespace {

constexpr std::uint8_t binary_opcode = 0x2; // RFC 6455 5.2

const std::string& handshake_reply() {
  static const std::string packet = [] {
    std::string out;
    codec::encode_packet(codec::packet_type::handshake,
                         R"({"code":200,"sys":{"heartbeat":30,"servertime":0}})", out);
    return out;
  }();
  return packet;
}

class connection;
// The broadcast group: the connections that asked bench.join (a connection leaves it when it
// is destroyed).
std::unordered_set<connection*> members;

// One client, over TCP or (websocket) over WebSocket frames. Answers what one read carried: a
// handshake reply, and a Response per Request, all in one write; the next read starts when that
// write is done. Pushes to a member go out at once, or after the write under way.
class connection : public std::enable_shared_from_this<connection> {
public:
  connection(tcp::socket s, bool websocket) : socket_(std::move(s)), websocket_(websocket) {
    boost::system::error_code ignored; // a peer already gone fails at its first read instead
    socket_.set_option(tcp::no_delay(true), ignored);
  }
  ~connection() { members.erase(this); }
  void start() { read(); }

  // A push packet, encoded once for all members. A member that does not read is dropped once
  // this much waits for it, as nanocaf's write-queue bound does, instead of growing without end.
  void push(const std::string& packet) {
    constexpr std::size_t max_pending = 4u << 20;
    if (dropped_)
      return;
    if (pending_.size() > max_pending) {
      dropped_ = true;
      boost::system::error_code ignored;
      // Its operations end with an error and release it, and the group with it (not here:
      // the broadcast is walking the group).
      socket_.close(ignored);
      return;
    }
    if (websocket_)
      codec::append_websocket_frame(binary_opcode, packet, pending_);
    else
      pending_ += packet;
    if (!writing_)
      write();
  }

private:
  void read() {
    reading_ = true;
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](
                                                  boost::system::error_code ec, std::size_t n) {
      self->reading_ = false;
      if (ec)
        return;
      std::string_view bytes{self->buf_.data(), n};
      if (self->websocket_ ? !self->unframe(bytes) : !self->decode(bytes))
        return; // drop the connection
      self->answer();
      if (self->writing_)
        return; // a push is being written: its completion writes the replies, then reads
      self->write_or_read();
    });
  }

  bool decode(std::string_view bytes) {
    return decoder_.feed(bytes, packets_) == codec::error::none;
  }

  void answer() {
    codec::message msg;
    for (auto& p : packets_) {
      // Over TCP straight into the write; over WebSocket into a frame of its own.
      std::string& to = websocket_ ? packet_ : pending_;
      if (websocket_)
        packet_.clear();
      if (p.type == codec::packet_type::handshake)
        to += handshake_reply();
      else if (p.type == codec::packet_type::data
               && codec::decode_message(p.body, nullptr, msg) == codec::error::none
               && msg.type == codec::message_type::request)
        codec::encode_data_packet(codec::message_type::response, msg.id, {},
                                  reply_payload(msg), nullptr, to);
      if (websocket_ && !packet_.empty())
        codec::append_websocket_frame(binary_opcode, packet_, pending_);
    }
    packets_.clear();
  }

  // The reply's payload: the request's own for every route but the broadcast benchmark's two.
  std::string_view reply_payload(const codec::message& msg) {
    static const std::string ok = R"({"code":0})";
    if (msg.route == "bench.join") {
      members.insert(this);
      members_reply_ = R"({"code":0,"members":)" + std::to_string(members.size()) + "}";
      return members_reply_;
    }
    if (msg.route == "bench.broadcast") {
      std::string packet;
      codec::encode_data_packet(codec::message_type::push, 0, "onBroadcast", msg.payload,
                                nullptr, packet);
      for (auto* member : members)
        member->push(packet);
      return ok;
    }
    return msg.payload;
  }

  void write_or_read() {
    if (pending_.empty()) {
      read();
      return;
    }
    write();
  }

  // Writes what is pending; then writes what came meanwhile, or reads if no read is under way.
  void write() {
    out_.swap(pending_);
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->out_.clear();
                        self->writing_ = false;
                        if (ec)
                          return;
                        if (!self->pending_.empty())
                          self->write();
                        else if (!self->reading_)
                          self->read();
                      });
  }

  // WebSocket: the upgrade, then whole masked frames (RFC 6455 5.3) whose payloads carry the
  // packet stream. false: drop the connection.
  bool unframe(std::string_view bytes) {
    in_.append(bytes);
    if (!upgraded_ && !upgrade())
      return in_.size() < 8192 && !failed_;
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
      if (opcode <= 0x2 && !decode({payload, len}))
        return false;
      pos += head + 4 + len;
    }
    in_.erase(0, pos);
    return true;
  }

  // Answers the HTTP upgrade once its head is complete; false while it is not (or it failed).
  bool upgrade() {
    auto end = in_.find("\r\n\r\n");
    if (end == std::string::npos)
      return false;
    std::string head = in_.substr(0, end);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto at = lower.find("sec-websocket-key:");
    if (at == std::string::npos) {
      failed_ = true;
      return false;
    }
    auto from = head.find_first_not_of(' ', at + 18);
    if (from == std::string::npos) { // an empty key at the end of the head
      failed_ = true;
      return false;
    }
    auto to = head.find("\r\n", from);
    pending_ = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: "
           + codec::websocket_accept(std::string_view{head}.substr(from, to - from)) + "\r\n\r\n";
    in_.erase(0, end + 4);
    upgraded_ = true;
    return true;
  }

  tcp::socket socket_;
  const bool websocket_;
  std::array<char, 4096> buf_;
  codec::stream_decoder decoder_;
  std::vector<codec::packet> packets_;
  std::string out_;     // being written
  std::string pending_; // to write when that is done
  std::string members_reply_;
  bool reading_ = false;
  bool writing_ = false;
  bool dropped_ = false; // closed for not reading its pushes
  // WebSocket only.
  std::string in_;     // bytes not yet forming a whole frame
  std::string packet_; // one reply, before its frame
  bool upgraded_ = false;
  bool failed_ = false;
};

void accept(tcp::acceptor& acceptor, bool websocket) {
  acceptor.async_accept([&acceptor, websocket](boost::system::error_code ec, tcp::socket s) {
    if (!ec)
      std::make_shared<connection>(std::move(s), websocket)->start();
    accept(acceptor, websocket);
  });
}

} // namespace

constexpr const char* usage =
  "usage: raw-echo [TCP_PORT [WS_PORT]]\n"
  "  The bare-Asio ceiling for the benchmarks: nano's framing, no actors. Answers bench.echo,\n"
  "  bench.join and bench.broadcast on 127.0.0.1:TCP_PORT (default 3270) and, when WS_PORT is\n"
  "  given and not 0, over WebSocket on 127.0.0.1:WS_PORT.\n";

// A port argument, or nullopt (then main prints the usage and exits with 2).
std::optional<unsigned short> port_arg(const char* text) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 0 || v > 65535)
    return std::nullopt;
  return static_cast<unsigned short>(v);
}

int main(int argc, char** argv) {
  if (argc > 1 && (std::string_view{argv[1]} == "--help" || std::string_view{argv[1]} == "-h")) {
    std::cout << usage;
    return 0;
  }
  std::optional<unsigned short> parsed_port = argc > 1 ? port_arg(argv[1]) : 3270;
  std::optional<unsigned short> parsed_ws = argc > 2 ? port_arg(argv[2]) : 0;
  if (argc > 3 || !parsed_port || !parsed_ws) {
    std::cerr << usage;
    return 2;
  }
  unsigned short port = *parsed_port;
  unsigned short ws_port = *parsed_ws;
  asio::io_context ioc{1};
  auto loopback = asio::ip::make_address("127.0.0.1");
  tcp::acceptor acceptor{ioc, {loopback, port}};
  accept(acceptor, false);
  std::cout << "raw-echo: tcp " << port;
  std::unique_ptr<tcp::acceptor> ws_acceptor;
  if (ws_port != 0) {
    ws_acceptor = std::make_unique<tcp::acceptor>(ioc, tcp::endpoint{loopback, ws_port});
    accept(*ws_acceptor, true);
    std::cout << ", websocket " << ws_port;
  }
  std::cout << std::endl;
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](auto, auto) { ioc.stop(); });
  ioc.run();
  return 0;
}
