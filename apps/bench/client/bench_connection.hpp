// One simulated client of nanocaf-bench: connects (TCP or WebSocket), handshakes, answers the
// server's heartbeats, sends what the driver asks and reports what comes back. All of it runs
// on the driver's single io_context thread. Asio connects and Beast upgrades; then the socket
// moves to the poller (gateway/src/poller/detail/poller.hpp, which the gateway's own clients share),
// and reads and writes are plain recv(2) and send(2).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <nanocaf/codec/message.hpp>
#include <nanocaf/codec/packet.hpp>

#include "detail/poller.hpp"
#include "ws_client_frames.hpp"

namespace nanocaf::bench {

using clock = std::chrono::steady_clock;
using detail::pollable;
using detail::poller;

struct target {
  boost::asio::ip::tcp::endpoint endpoint;
  bool websocket = false;
  std::string host; // for the WebSocket Host header
  std::string path = "/nano";
};

/// What a connection tells its driver.
struct connection_events {
  std::function<void(std::size_t index)> ready;                    // handshake done
  std::function<void(std::size_t index, const std::string& why)> failed; // could not start
  std::function<void(std::size_t index, const std::string& why)> dropped; // lost after ready
  std::function<void(std::size_t index, const codec::message& m)> message;
};

class bench_connection : public std::enable_shared_from_this<bench_connection>,
                         public pollable {
public:
  bench_connection(boost::asio::io_context& ioc, poller& p, std::size_t index,
                   const target& where, const connection_events& events);
  ~bench_connection();

  void start();
  /// Sends an encoded packet (in a frame of its own over WebSocket).
  void send(std::string_view packet);
  /// Stops reading for good (a client that hangs while the server keeps sending), with a
  /// small receive buffer so that the kernel does not absorb megabytes on its behalf.
  void stop_reading();
  void close();
  bool is_ready() const { return ready_; }
  /// Over a megabyte the server has not taken: the driver sends it nothing more for now.
  bool is_backlogged() const;

private:
  struct ws_stream;
  void on_connected();
  void adopt(boost::asio::ip::tcp::socket& s); // to the poller
  void send_handshake();
  void on_readable() override;
  void on_writable() override;
  void on_bytes(const char* data, std::size_t n);
  void on_packets(const char* data, std::size_t n);
  void write(std::string_view bytes);
  std::uint32_t next_mask(); // xorshift: a fresh mask for every frame
  void fail(const std::string& why);
  void shut(); // closes the socket; nothing is reported after this

  poller& poller_;
  std::size_t index_;
  const target& where_;
  const connection_events& events_;
  boost::asio::ip::tcp::socket socket_; // until adopt()
  std::unique_ptr<ws_stream> ws_;       // the upgrade, until adopt()
  int fd_ = -1;                         // after adopt()
  bool websocket_ = false;
  ws_frame_reader frames_;
  std::uint32_t mask_state_;            // next_mask()'s state
  std::string ws_data_;                 // scratch: packet bytes carried by the frames read
  std::string ws_frame_;                // scratch: the frame being sent
  std::vector<std::string> pings_;
  codec::stream_decoder decoder_{1u << 20};
  std::vector<codec::packet> packets_;  // scratch, kept for its capacity
  std::string unsent_;                  // what the socket did not take; sent when writable
  bool ready_ = false;
  bool reading_ = true;
  bool done_ = false; // failed or closed: reported once
  char buf_[16384];
};

} // namespace nanocaf::bench
