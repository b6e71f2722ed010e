// A blocking protocol client for tests: raw TCP or WebSocket (its own small RFC 6455 client,
// so tests can also send frames a browser never would). Every wait has a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nanocaf/codec/message.hpp"
#include "nanocaf/codec/packet.hpp"

namespace nanocaf::test {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

class test_client {
public:
  enum class transport { tcp, websocket };

  /// Connects; for WebSocket also upgrades on `path` (with `origin` when not empty).
  /// Throws std::runtime_error when the connection or the upgrade fails.
  static std::unique_ptr<test_client> connect_tcp(std::uint16_t port);
  static std::unique_ptr<test_client> connect_ws(std::uint16_t port, const std::string& path = "/nano",
                                                 const std::string& origin = "");
  ~test_client();

  // -- sending ------------------------------------------------------------------------------
  /// Bytes as they are: on the TCP stream, or as one binary WebSocket message.
  void send_raw(const std::string& bytes);
  void send_packet(codec::packet_type type, const std::string& body = "");
  /// Handshake and ack; returns the handshake response body.
  std::string handshake_and_ack(const std::string& body = R"({"sys":{"type":"test","version":"0.1"}})");
  std::uint64_t request(const std::string& route, const std::string& payload,
                        const codec::route_dictionary* dict = nullptr);
  void notify(const std::string& route, const std::string& payload,
              const codec::route_dictionary* dict = nullptr);
  /// WebSocket only: one frame with the given opcode and FIN bit (for malformed-frame tests).
  void send_ws_frame(std::uint8_t opcode, const std::string& payload, bool fin = true);
  /// Bytes straight onto the socket, whatever the transport (hand-made frames).
  void send_unframed(const std::string& bytes) { write_all(bytes); }
  /// WebSocket only: the control frames received so far (opcode, payload), in order.
  const std::vector<std::pair<std::uint8_t, std::string>>& ws_control_frames() const {
    return control_frames_;
  }

  // -- receiving ------------------------------------------------------------------------------
  /// The next packet of any type, or nullopt at the deadline or when the server closed.
  std::optional<codec::packet> next_packet(ms timeout = 3s);
  /// The next Data message, skipping heartbeats; nullopt at the deadline or close.
  std::optional<codec::message> next_message(ms timeout = 3s,
                                             const codec::route_dictionary* dict = nullptr);
  /// The response to request `id`; messages before it are kept for later calls.
  std::optional<codec::message> response(std::uint64_t id, ms timeout = 3s);
  /// The next push on `route`; other messages before it are kept.
  std::optional<codec::message> push(const std::string& route, ms timeout = 3s);
  /// True when the server closes the connection within `timeout` (packets are drained).
  bool closed_by_server(ms timeout = 3s);
  /// Stops reading: for slow-reader tests, the client just leaves bytes in its socket.
  int fd() const noexcept { return fd_; }

  std::uint64_t next_id() const noexcept { return next_id_; }

private:
  test_client(int fd, transport t) : fd_(fd), transport_(t) {}
  // Reads more stream bytes (TCP bytes, or WebSocket payload bytes) into the decoder.
  // false on close or deadline.
  bool fill(std::chrono::steady_clock::time_point deadline);
  bool read_some(std::string& out, std::chrono::steady_clock::time_point deadline);
  bool read_ws_frame(std::chrono::steady_clock::time_point deadline);
  void write_all(const std::string& bytes);
  // The first message (held or new) that `wanted` accepts; the others are held in order.
  std::optional<codec::message> take(const std::function<bool(const codec::message&)>& wanted,
                                     ms timeout);

  int fd_;
  transport transport_;
  std::uint64_t next_id_ = 1;
  bool closed_ = false;
  codec::stream_decoder decoder_{16u << 20};
  std::deque<codec::packet> packets_;
  std::deque<codec::message> held_;
  std::string raw_; // undecoded WebSocket frame bytes
  std::vector<std::pair<std::uint8_t, std::string>> control_frames_;
};

} // namespace nanocaf::test
