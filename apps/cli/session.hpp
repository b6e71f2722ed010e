// One client session of nanocaf-cli: handshake, heartbeats, commands run in order, and what
// the server sends printed as lines.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <nanocaf/codec/message.hpp>
#include <nanocaf/codec/packet.hpp>

#include "transport.hpp"

namespace nanocaf::cli {

struct session_options {
  std::string url;
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds linger{0};
  std::string user; // JSON, or empty
  bool quiet = false;
  tls_settings tls;
};

enum exit_status {
  ok = 0,
  connection_failed = 1,
  usage = 2,
  request_failed = 3, // an error reply nobody expected, an unexpected success, or no response
  kicked = 4,
  push_missing = 5, // an expect-push whose push did not come in time
};

class session : public std::enable_shared_from_this<session> {
public:
  /// Connects and completes the handshake (blocking, bounded by the timeout); throws
  /// std::runtime_error with the reason otherwise.
  static std::shared_ptr<session> connect(boost::asio::io_context& ioc, session_options opts);

  /// Queues one command line; they run in order, a request waiting for its response.
  void command(const std::string& line);
  /// No more commands: finish after the last one (and the linger time).
  void end_of_commands();
  int exit_code() const noexcept { return exit_code_; }

  session(boost::asio::io_context& ioc, session_options opts);

private:
  void handshake();
  void on_bytes(std::string_view bytes);
  void on_packet(const codec::packet& p);
  void on_handshake_response(const std::string& body);
  void on_message(codec::message m);
  void next_command();
  void run(const std::string& line);
  void send_packet(codec::packet_type type, std::string_view body);
  void heartbeat();
  void finish(int status);
  void note(const std::string& text) const;
  void fail(int status, const std::string& text);

  boost::asio::io_context& ioc_;
  session_options opts_;
  std::shared_ptr<transport> conn_;
  codec::stream_decoder decoder_{16u << 20};
  codec::route_dictionary dict_;
  std::chrono::milliseconds heartbeat_{0};
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer wait_timer_; // response deadline, or a wait command
  bool ready_ = false;
  bool busy_ = false; // a request or a wait is running
  bool no_more_commands_ = false;
  bool finished_ = false;
  std::deque<std::string> commands_;
  std::uint64_t next_id_ = 1;
  struct pending_request {
    std::uint64_t id;
    std::string route;
    std::optional<long long> expected_error; // expect-error CODE: that error reply is success
  };
  std::optional<pending_request> pending_;
  // Pushes not yet claimed by an expect-push (route, payload), oldest first; bounded.
  std::deque<std::pair<std::string, std::string>> unclaimed_;
  std::optional<std::string> awaited_push_; // the route an expect-push waits for
  bool claim_push(const std::string& route);
  void send_request(const std::string& route, const std::string& body,
                    std::optional<long long> expected_error);
  int exit_code_ = ok;
};

} // namespace nanocaf::cli
