#include "session.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace nanocaf::cli {

using json = nlohmann::json;

namespace {

// A payload as one line: compact JSON when it is JSON, else its size and hex bytes.
std::string printable(const std::string& payload) {
  auto j = json::parse(payload, nullptr, false);
  if (!j.is_discarded())
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : payload) {
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  return "<" + std::to_string(payload.size()) + " bytes, not JSON: " + hex + ">";
}

// The code of {"code":N} with N other than 0 (nano's demos) or 200: an error reply.
std::optional<long long> error_code_of(const std::string& payload) {
  auto j = json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("code") || !j["code"].is_number_integer())
    return std::nullopt;
  auto code = j["code"].get<long long>();
  if (code == 0 || code == 200)
    return std::nullopt;
  return code;
}

// Pushes kept for a later expect-push; beyond this the oldest go.
constexpr std::size_t max_unclaimed_pushes = 1024;

} // namespace

session::session(boost::asio::io_context& ioc, session_options opts)
  : ioc_(ioc), opts_(std::move(opts)), heartbeat_timer_(ioc), wait_timer_(ioc) {}

std::shared_ptr<session> session::connect(boost::asio::io_context& ioc, session_options opts) {
  auto s = std::make_shared<session>(ioc, std::move(opts));
  s->conn_ = transport::connect(ioc, s->opts_.url, s->opts_.timeout, s->opts_.tls);
  s->note("connected to " + s->opts_.url);
  s->handshake();
  return s;
}

void session::note(const std::string& text) const {
  if (!opts_.quiet)
    std::cerr << "nanocaf-cli: " << text << std::endl;
}

void session::fail(int status, const std::string& text) {
  std::cerr << "nanocaf-cli: " << text << std::endl;
  if (exit_code_ == ok)
    exit_code_ = status;
}

void session::handshake() {
  auto self = shared_from_this();
  conn_->start([self](std::string_view b) { self->on_bytes(b); },
               [self](const std::string& why) {
                 if (self->finished_)
                   return;
                 self->fail(connection_failed, "connection lost: " + why);
                 self->finish(connection_failed);
               });
  json hs{{"sys", {{"type", "nanocaf-cli"}, {"version", "0.1.0"}}}};
  if (!opts_.user.empty()) {
    auto user = json::parse(opts_.user, nullptr, false);
    if (user.is_discarded())
      throw std::runtime_error("--user is not JSON: " + opts_.user);
    hs["user"] = user;
  }
  send_packet(codec::packet_type::handshake, hs.dump());
  wait_timer_.expires_after(opts_.timeout);
  wait_timer_.async_wait([self](const boost::system::error_code& ec) {
    if (!ec && !self->ready_ && !self->finished_) {
      self->fail(connection_failed, "no handshake response within the timeout");
      self->finish(connection_failed);
    }
  });
}

void session::send_packet(codec::packet_type type, std::string_view body) {
  std::string out;
  codec::encode_packet(type, body, out);
  conn_->write(std::move(out));
}

void session::on_bytes(std::string_view bytes) {
  std::vector<codec::packet> packets;
  auto err = decoder_.feed(bytes, packets);
  for (auto& p : packets)
    if (!finished_)
      on_packet(p);
  if (err != codec::error::none && !finished_) {
    fail(connection_failed, std::string{"bad packet from the server: "} + codec::to_string(err));
    finish(connection_failed);
  }
}

void session::on_packet(const codec::packet& p) {
  switch (p.type) {
    case codec::packet_type::handshake:
      on_handshake_response(p.body);
      break;
    case codec::packet_type::data: {
      codec::message m;
      if (auto err = codec::decode_message(p.body, &dict_, m); err != codec::error::none) {
        fail(connection_failed, std::string{"bad message from the server: "} + codec::to_string(err));
        finish(connection_failed);
        return;
      }
      on_message(std::move(m));
      break;
    }
    case codec::packet_type::kick:
      std::cout << "kicked " << printable(p.body) << std::endl;
      fail(kicked, "kicked by the server");
      finish(kicked);
      break;
    case codec::packet_type::heartbeat:
    case codec::packet_type::handshake_ack:
      break;
  }
}

void session::on_handshake_response(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || j.value("code", 0) != 200) {
    fail(connection_failed, "handshake refused: " + body);
    finish(connection_failed);
    return;
  }
  auto sys = j.value("sys", json::object());
  // Seconds, possibly fractional (spec 1.6); 0 or absent: no heartbeats.
  auto beat = sys.contains("heartbeat") && sys["heartbeat"].is_number() ? sys["heartbeat"].get<double>() : 0.0;
  heartbeat_ = std::chrono::milliseconds(static_cast<long>(beat * 1000));
  if (sys.contains("dict") && sys["dict"].is_object())
    for (auto& [route, code] : sys["dict"].items())
      if (code.is_number_unsigned())
        dict_.add(route, code.get<std::uint16_t>());
  send_packet(codec::packet_type::handshake_ack, "");
  ready_ = true;
  wait_timer_.cancel();
  note("handshake done, heartbeat every " + std::to_string(heartbeat_.count()) + " ms");
  if (heartbeat_.count() > 0)
    heartbeat();
  next_command();
}

void session::heartbeat() {
  heartbeat_timer_.expires_after(heartbeat_);
  heartbeat_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->finished_)
      return;
    self->send_packet(codec::packet_type::heartbeat, "");
    self->heartbeat();
  });
}

void session::on_message(codec::message m) {
  if (m.type == codec::message_type::push) {
    std::cout << "push " << m.route << ' ' << printable(m.payload) << std::endl;
    if (awaited_push_ && *awaited_push_ == m.route) {
      awaited_push_.reset();
      busy_ = false;
      wait_timer_.cancel();
      next_command();
      return;
    }
    unclaimed_.emplace_back(m.route, std::move(m.payload));
    if (unclaimed_.size() > max_unclaimed_pushes)
      unclaimed_.pop_front();
    return;
  }
  if (m.type != codec::message_type::response)
    return;
  if (!pending_ || pending_->id != m.id)
    return; // late: its request already timed out
  std::cout << "response " << pending_->route << ' ' << printable(m.payload) << std::endl;
  auto code = error_code_of(m.payload);
  if (code != pending_->expected_error) {
    if (pending_->expected_error)
      note("expected error " + std::to_string(*pending_->expected_error) + " from "
           + pending_->route + ", got " + (code ? "error " + std::to_string(*code) : "success"));
    if (exit_code_ == ok)
      exit_code_ = request_failed;
  }
  pending_.reset();
  busy_ = false;
  wait_timer_.cancel();
  next_command();
}

void session::command(const std::string& line) {
  commands_.push_back(line);
  next_command();
}

void session::end_of_commands() {
  no_more_commands_ = true;
  next_command();
}

void session::next_command() {
  while (ready_ && !busy_ && !finished_ && !commands_.empty()) {
    auto line = std::move(commands_.front());
    commands_.pop_front();
    run(line);
  }
  if (!ready_ || busy_ || finished_ || !commands_.empty() || !no_more_commands_)
    return;
  if (opts_.linger.count() <= 0) {
    finish(ok);
    return;
  }
  busy_ = true;
  wait_timer_.expires_after(opts_.linger);
  wait_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec)
      self->finish(ok);
  });
}

void session::run(const std::string& line) {
  std::istringstream in{line};
  std::string verb, route;
  in >> verb;
  if (verb.empty() || verb[0] == '#')
    return;
  if (verb == "quit" || verb == "exit") {
    commands_.clear();
    no_more_commands_ = true;
    return;
  }
  if (verb == "help") {
    std::cerr << "request ROUTE [JSON] | notify ROUTE [JSON] | expect-error CODE ROUTE [JSON] |\n"
                 "expect-push ROUTE [SECONDS] | wait SECONDS | quit\n";
    return;
  }
  if (verb == "expect-push") {
    std::string push_route, limit;
    double secs = opts_.timeout.count() / 1000.0;
    bool ok_args = static_cast<bool>(in >> push_route);
    if (ok_args && in >> limit) {
      char* end = nullptr;
      secs = std::strtod(limit.c_str(), &end);
      ok_args = end != limit.c_str() && *end == '\0';
    }
    if (!ok_args || secs < 0) {
      fail(usage, "usage: expect-push ROUTE [SECONDS]");
      return;
    }
    if (claim_push(push_route))
      return; // it came already
    awaited_push_ = push_route;
    busy_ = true;
    wait_timer_.expires_after(std::chrono::milliseconds(static_cast<long>(secs * 1000)));
    wait_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || !self->awaited_push_)
        return;
      self->fail(push_missing, "no push on " + *self->awaited_push_ + " within the timeout");
      self->awaited_push_.reset();
      self->busy_ = false;
      self->next_command();
    });
    return;
  }
  std::optional<long long> expected_error;
  if (verb == "expect-error") {
    long long code = 0;
    if (!(in >> code)) {
      fail(usage, "usage: expect-error CODE ROUTE [JSON]");
      return;
    }
    expected_error = code;
    verb = "request";
  }
  if (verb == "wait") {
    double secs = -1;
    if (!(in >> secs) || secs < 0) {
      fail(usage, "usage: wait SECONDS");
      return;
    }
    busy_ = true;
    wait_timer_.expires_after(std::chrono::milliseconds(static_cast<long>(secs * 1000)));
    wait_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec)
        return;
      self->busy_ = false;
      self->next_command();
    });
    return;
  }
  if (verb != "request" && verb != "notify") {
    fail(usage, "unknown command: " + verb + " (try help)");
    return;
  }
  if (!(in >> route)) {
    fail(usage, "usage: " + verb + " ROUTE [JSON]");
    return;
  }
  std::string text;
  std::getline(in, text);
  auto body = text.find_first_not_of(" \t") == std::string::npos ? json::object()
                                                                   : json::parse(text, nullptr, false);
  if (body.is_discarded()) {
    fail(usage, "not JSON: " + text);
    return;
  }
  if (verb == "notify") {
    std::string packet;
    auto err = codec::encode_data_packet(codec::message_type::notify, 0, route, body.dump(),
                                         &dict_, packet);
    if (err != codec::error::none) {
      fail(usage, "cannot encode: " + std::string{codec::to_string(err)});
      return;
    }
    conn_->write(std::move(packet));
    return;
  }
  send_request(route, body.dump(), expected_error);
}

void session::send_request(const std::string& route, const std::string& body,
                           std::optional<long long> expected_error) {
  auto id = next_id_++;
  std::string packet;
  auto err = codec::encode_data_packet(codec::message_type::request, id, route, body, &dict_,
                                       packet);
  if (err != codec::error::none) {
    fail(usage, "cannot encode: " + std::string{codec::to_string(err)});
    return;
  }
  conn_->write(std::move(packet));
  pending_ = pending_request{id, route, expected_error};
  busy_ = true;
  wait_timer_.expires_after(opts_.timeout);
  wait_timer_.async_wait([self = shared_from_this(), id](const boost::system::error_code& ec) {
    if (ec || !self->pending_ || self->pending_->id != id)
      return;
    self->fail(request_failed, "no response to " + self->pending_->route + " within the timeout");
    self->pending_.reset();
    self->busy_ = false;
    self->next_command();
  });
}

bool session::claim_push(const std::string& route) {
  for (auto i = unclaimed_.begin(); i != unclaimed_.end(); ++i)
    if (i->first == route) {
      unclaimed_.erase(unclaimed_.begin(), std::next(i)); // it and what came before it
      return true;
    }
  return false;
}

void session::finish(int status) {
  if (finished_)
    return;
  finished_ = true;
  if (exit_code_ == ok)
    exit_code_ = status;
  heartbeat_timer_.cancel();
  wait_timer_.cancel();
  conn_->close();
}

} // namespace nanocaf::cli
