// One simulated client of nanocaf-bench: connects (TCP or WebSocket), handshakes, answers the
// server's heartbeats, sends what the driver asks and reports what comes back. All of it runs
// on the driver's single io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <nanocaf/codec/message.hpp>
#include <nanocaf/codec/packet.hpp>

namespace nanocaf::bench {

using clock = std::chrono::steady_clock;

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

class bench_connection : public std::enable_shared_from_this<bench_connection> {
public:
  bench_connection(boost::asio::io_context& ioc, std::size_t index, const target& where,
                   const connection_events& events);
  ~bench_connection();

  void start();
  /// Sends an already encoded packet.
  void send(std::string packet);
  /// Stops reading for good (a client that hangs while the server keeps sending), with a
  /// small receive buffer so that the kernel does not absorb megabytes on its behalf.
  void stop_reading();
  void close();
  bool is_ready() const { return ready_; }
  bool is_open() const { return open_; }

private:
  struct ws_stream;
  void on_connected();
  void send_handshake();
  void read();
  void on_bytes(const char* data, std::size_t n);
  void write_next();
  void fail(const std::string& why);
  void shut(); // closes the socket; nothing is reported after this

  boost::asio::io_context& ioc_;
  std::size_t index_;
  const target& where_;
  const connection_events& events_;
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<ws_stream> ws_;
  codec::stream_decoder decoder_{1u << 20};
  std::deque<std::string> out_;
  bool writing_ = false;
  bool ready_ = false;
  bool open_ = false;
  bool reading_ = true;
  bool done_ = false; // failed or closed: reported once
  char buf_[16384];
};

} // namespace nanocaf::bench
