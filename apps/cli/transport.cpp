#include "transport.hpp"

#include <deque>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace nanocaf::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;

namespace {

struct url_parts {
  std::string scheme, host, port, path;
};

url_parts parse_url(const std::string& url) {
  auto sep = url.find("://");
  if (sep == std::string::npos)
    throw std::runtime_error("address must be tcp://host:port or ws://host:port/path: " + url);
  url_parts u;
  u.scheme = url.substr(0, sep);
  auto rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/nano" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error("address has no port: " + url);
  u.host = hostport.substr(0, colon);
  u.port = hostport.substr(colon + 1);
  if (u.scheme != "tcp" && u.scheme != "ws")
    throw std::runtime_error("unknown scheme " + u.scheme + " (tcp or ws)");
  return u;
}

// The queue both transports share: one write in flight, the rest waiting in order.
class write_queue {
public:
  bool push(std::string bytes) { // true when a write should start
    items_.push_back(std::move(bytes));
    return items_.size() == 1;
  }
  std::string& front() { return items_.front(); }
  bool pop() { // true when another write should start
    items_.pop_front();
    return !items_.empty();
  }
  bool empty() const { return items_.empty(); }

private:
  std::deque<std::string> items_;
};

class tcp_transport : public transport, public std::enable_shared_from_this<tcp_transport> {
public:
  explicit tcp_transport(tcp::socket s) : socket_(std::move(s)) {}

  void start(bytes_handler on_bytes, closed_handler on_closed) override {
    on_bytes_ = std::move(on_bytes);
    on_closed_ = std::move(on_closed);
    read();
  }
  void write(std::string bytes) override {
    if (queue_.push(std::move(bytes)))
      write_front();
  }
  void close() override {
    closing_ = true;
    if (queue_.empty())
      shutdown();
  }

private:
  void read() {
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](
                                                  const beast::error_code& ec, std::size_t n) {
      if (ec) {
        self->on_closed_(ec == asio::error::eof ? "closed by the server" : ec.message());
        return;
      }
      self->on_bytes_(std::string_view{self->buf_, n});
      self->read();
    });
  }
  void write_front() {
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                        if (ec)
                          return; // the read side reports the failure
                        if (self->queue_.pop())
                          self->write_front();
                        else if (self->closing_)
                          self->shutdown();
                      });
  }
  void shutdown() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
  }

  tcp::socket socket_;
  char buf_[16384];
  write_queue queue_;
  bool closing_ = false;
  bytes_handler on_bytes_;
  closed_handler on_closed_;
};

class ws_transport : public transport, public std::enable_shared_from_this<ws_transport> {
public:
  explicit ws_transport(websocket::stream<tcp::socket> ws) : ws_(std::move(ws)) {
    ws_.binary(true);
  }

  void start(bytes_handler on_bytes, closed_handler on_closed) override {
    on_bytes_ = std::move(on_bytes);
    on_closed_ = std::move(on_closed);
    read();
  }
  void write(std::string bytes) override {
    if (queue_.push(std::move(bytes)))
      write_front();
  }
  void close() override {
    closing_ = true;
    if (queue_.empty())
      send_close();
  }

private:
  void read() {
    ws_.async_read(buf_, [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
      if (ec) {
        self->on_closed_(ec == websocket::error::closed ? "closed by the server" : ec.message());
        return;
      }
      auto data = self->buf_.cdata();
      self->on_bytes_(std::string_view{static_cast<const char*>(data.data()), data.size()});
      self->buf_.consume(self->buf_.size());
      self->read();
    });
  }
  void write_front() {
    // One packet per binary message, as browsers and nano's clients send them.
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                      if (ec)
                        return;
                      if (self->queue_.pop())
                        self->write_front();
                      else if (self->closing_)
                        self->send_close();
                    });
  }
  void send_close() {
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](const beast::error_code&) {});
  }

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buf_;
  write_queue queue_;
  bool closing_ = false;
  bytes_handler on_bytes_;
  closed_handler on_closed_;
};

} // namespace

std::shared_ptr<transport> transport::connect(asio::io_context& ioc, const std::string& url,
                                              std::chrono::milliseconds timeout) {
  auto u = parse_url(url);
  tcp::resolver resolver{ioc};
  beast::error_code ec;
  auto endpoints = resolver.resolve(u.host, u.port, ec);
  if (ec)
    throw std::runtime_error("cannot resolve " + u.host + ": " + ec.message());
  // A connect with a deadline: run the io_context for at most `timeout`.
  tcp::socket socket{ioc};
  bool done = false;
  asio::async_connect(socket, endpoints, [&](const beast::error_code& e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  ioc.run_for(timeout);
  ioc.restart();
  if (!done) {
    socket.close();
    throw std::runtime_error("connect to " + u.host + ":" + u.port + " timed out");
  }
  if (ec)
    throw std::runtime_error("cannot connect to " + u.host + ":" + u.port + ": " + ec.message());
  socket.set_option(tcp::no_delay(true), ec);
  if (u.scheme == "tcp")
    return std::make_shared<tcp_transport>(std::move(socket));
  websocket::stream<tcp::socket> ws{std::move(socket)};
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::user_agent, "nanocaf-cli");
  }));
  bool upgraded = false;
  ws.async_handshake(u.host + ":" + u.port, u.path, [&](const beast::error_code& e) {
    ec = e;
    upgraded = true;
  });
  ioc.run_for(timeout);
  ioc.restart();
  if (!upgraded)
    throw std::runtime_error("websocket upgrade at " + u.path + " timed out");
  if (ec)
    throw std::runtime_error("websocket upgrade at " + u.path + " refused: " + ec.message());
  return std::make_shared<ws_transport>(std::move(ws));
}

} // namespace nanocaf::cli
