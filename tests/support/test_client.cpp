#include "test_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "nanocaf/codec/websocket.hpp"

namespace nanocaf::test {

namespace {

using clock = std::chrono::steady_clock;

int dial(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int remaining_ms(clock::time_point deadline) {
  auto left = std::chrono::duration_cast<ms>(deadline - clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

} // namespace

std::unique_ptr<test_client> test_client::connect_tcp(std::uint16_t port) {
  return std::unique_ptr<test_client>(new test_client(dial(port), transport::tcp));
}

std::unique_ptr<test_client> test_client::connect_ws(std::uint16_t port, const std::string& path,
                                                     const std::string& origin) {
  std::unique_ptr<test_client> c(new test_client(dial(port), transport::websocket));
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port)
                    + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n";
  if (!origin.empty())
    req += "Origin: " + origin + "\r\n";
  req += "\r\n";
  c->write_all(req);
  auto deadline = clock::now() + 3s;
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    std::string chunk;
    if (!c->read_some(chunk, deadline))
      throw std::runtime_error("websocket upgrade: no response");
    head += chunk;
  }
  auto end = head.find("\r\n\r\n") + 4;
  if (head.rfind("HTTP/1.1 101", 0) != 0)
    throw std::runtime_error("websocket upgrade refused: " + head.substr(0, head.find("\r\n")));
  c->raw_ = head.substr(end);
  return c;
}

test_client::~test_client() {
  if (fd_ >= 0)
    ::close(fd_);
}

void test_client::write_all(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      throw std::runtime_error("send failed");
    off += static_cast<std::size_t>(n);
  }
}

void test_client::send_ws_frame(std::uint8_t opcode, const std::string& payload, bool fin) {
  static std::mt19937 rng{42};
  std::string frame;
  codec::append_masked_websocket_frame(opcode, payload, static_cast<std::uint32_t>(rng()), frame,
                                       fin);
  write_all(frame);
}

void test_client::send_raw(const std::string& bytes) {
  if (transport_ == transport::tcp)
    write_all(bytes);
  else
    send_ws_frame(0x2, bytes);
}

void test_client::send_packet(codec::packet_type type, const std::string& body) {
  std::string out;
  codec::encode_packet(type, body, out);
  send_raw(out);
}

std::string test_client::handshake_and_ack(const std::string& body) {
  send_packet(codec::packet_type::handshake, body);
  for (;;) {
    auto p = next_packet();
    if (!p)
      throw std::runtime_error("no handshake response");
    if (p->type == codec::packet_type::handshake) {
      send_packet(codec::packet_type::handshake_ack);
      return p->body;
    }
  }
}

std::uint64_t test_client::request(const std::string& route, const std::string& payload,
                                   const codec::route_dictionary* dict) {
  auto id = next_id_++;
  std::string out;
  codec::encode_data_packet(codec::message_type::request, id, route, payload, dict, out);
  send_raw(out);
  return id;
}

void test_client::notify(const std::string& route, const std::string& payload,
                         const codec::route_dictionary* dict) {
  std::string out;
  codec::encode_data_packet(codec::message_type::notify, 0, route, payload, dict, out);
  send_raw(out);
}

bool test_client::read_some(std::string& out, clock::time_point deadline) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, remaining_ms(deadline)) <= 0)
    return false;
  char buf[65536];
  auto n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  out.assign(buf, static_cast<std::size_t>(n));
  return true;
}

bool test_client::read_ws_frame(clock::time_point deadline) {
  for (;;) {
    // Try to parse one whole frame from raw_.
    if (raw_.size() >= 2) {
      auto b0 = static_cast<std::uint8_t>(raw_[0]);
      auto b1 = static_cast<std::uint8_t>(raw_[1]);
      std::size_t len = b1 & 0x7F;
      std::size_t off = 2;
      if (len == 126 && raw_.size() >= 4) {
        len = (static_cast<std::uint8_t>(raw_[2]) << 8) | static_cast<std::uint8_t>(raw_[3]);
        off = 4;
      } else if (len == 127 && raw_.size() >= 10) {
        len = 0;
        for (int i = 0; i < 8; ++i)
          len = (len << 8) | static_cast<std::uint8_t>(raw_[2 + i]);
        off = 10;
      } else if (len >= 126) {
        off = 0; // header incomplete
      }
      if (off != 0 && raw_.size() >= off + len) {
        auto payload = raw_.substr(off, len);
        raw_.erase(0, off + len);
        auto opcode = static_cast<std::uint8_t>(b0 & 0x0F);
        if (opcode >= 0x8)
          control_frames_.emplace_back(opcode, payload);
        if (opcode == 0x8) {
          closed_ = true;
          return false;
        }
        if (opcode == 0x2 || opcode == 0x0 || opcode == 0x1) {
          std::vector<codec::packet> got;
          decoder_.feed(payload, got);
          for (auto& p : got)
            packets_.push_back(std::move(p));
          return true;
        }
        continue; // ping/pong: ignored
      }
    }
    std::string chunk;
    if (!read_some(chunk, deadline))
      return false;
    raw_ += chunk;
  }
}

bool test_client::fill(clock::time_point deadline) {
  if (closed_)
    return false;
  if (transport_ == transport::websocket)
    return read_ws_frame(deadline);
  std::string chunk;
  if (!read_some(chunk, deadline))
    return false;
  std::vector<codec::packet> got;
  decoder_.feed(chunk, got);
  for (auto& p : got)
    packets_.push_back(std::move(p));
  return true;
}

std::optional<codec::packet> test_client::next_packet(ms timeout) {
  auto deadline = clock::now() + timeout;
  while (packets_.empty())
    if (!fill(deadline))
      return std::nullopt;
  auto p = std::move(packets_.front());
  packets_.pop_front();
  return p;
}

std::optional<codec::message> test_client::next_message(ms timeout,
                                                        const codec::route_dictionary* dict) {
  if (!held_.empty()) {
    auto m = std::move(held_.front());
    held_.pop_front();
    return m;
  }
  auto deadline = clock::now() + timeout;
  for (;;) {
    auto p = next_packet(std::chrono::duration_cast<ms>(deadline - clock::now()));
    if (!p)
      return std::nullopt;
    if (p->type != codec::packet_type::data)
      continue;
    codec::message m;
    if (codec::decode_message(p->body, dict, m) != codec::error::none)
      throw std::runtime_error("server sent an undecodable message");
    return m;
  }
}

std::optional<codec::message> test_client::take(
  const std::function<bool(const codec::message&)>& wanted, ms timeout) {
  for (auto i = held_.begin(); i != held_.end(); ++i)
    if (wanted(*i)) {
      auto m = std::move(*i);
      held_.erase(i);
      return m;
    }
  auto deadline = clock::now() + timeout;
  std::deque<codec::message> skipped; // kept, in order, for later calls
  std::optional<codec::message> found;
  while (!found) {
    auto held = std::move(held_); // next_message must read fresh messages only
    held_.clear();
    auto m = next_message(std::chrono::duration_cast<ms>(deadline - clock::now()));
    held_ = std::move(held);
    if (!m)
      break;
    if (wanted(*m))
      found = std::move(m);
    else
      skipped.push_back(std::move(*m));
  }
  for (auto& m : skipped)
    held_.push_back(std::move(m));
  return found;
}

std::optional<codec::message> test_client::response(std::uint64_t id, ms timeout) {
  return take(
    [id](const codec::message& m) { return m.type == codec::message_type::response && m.id == id; },
    timeout);
}

std::optional<codec::message> test_client::push(const std::string& route, ms timeout) {
  return take(
    [&route](const codec::message& m) {
      return m.type == codec::message_type::push && m.route == route;
    },
    timeout);
}

bool test_client::closed_by_server(ms timeout) {
  auto deadline = clock::now() + timeout;
  while (!closed_) {
    if (clock::now() >= deadline)
      return false;
    fill(deadline);
  }
  return true;
}

} // namespace nanocaf::test
