#include "transport.hpp"

#include "client_url.hpp"

#include <deque>
#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace nanocaf::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;

namespace {

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

// A byte stream: a TCP socket, or TLS over one.
template <class Stream>
class tcp_transport : public transport, public std::enable_shared_from_this<tcp_transport<Stream>> {
public:
  explicit tcp_transport(Stream s) : socket_(std::move(s)) {}
  Stream& stream() { return socket_; }

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
    socket_.async_read_some(asio::buffer(buf_), [self = this->shared_from_this()](
                                                  const beast::error_code& ec, std::size_t n) {
      if (ec) {
        bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
        self->on_closed_(eof ? "closed by the server" : ec.message());
        return;
      }
      self->on_bytes_(std::string_view{self->buf_, n});
      self->read();
    });
  }
  void write_front() {
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
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
    beast::get_lowest_layer(socket_).shutdown(tcp::socket::shutdown_both, ignored);
  }

  Stream socket_;
  char buf_[16384];
  write_queue queue_;
  bool closing_ = false;
  bytes_handler on_bytes_;
  closed_handler on_closed_;
};

// WebSocket over a TCP socket, or over TLS (wss).
template <class Next>
class ws_transport : public transport, public std::enable_shared_from_this<ws_transport<Next>> {
public:
  explicit ws_transport(websocket::stream<Next> ws) : ws_(std::move(ws)) {
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
    ws_.async_read(buf_, [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
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
                    [self = this->shared_from_this()](const beast::error_code& ec, std::size_t) {
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
                    [self = this->shared_from_this()](const beast::error_code&) {});
  }

  websocket::stream<Next> ws_;
  beast::flat_buffer buf_;
  write_queue queue_;
  bool closing_ = false;
  bytes_handler on_bytes_;
  closed_handler on_closed_;
};

} // namespace

namespace {

// Runs the io_context until `done` or the deadline; false on the deadline.
bool run_until(asio::io_context& ioc, const bool& done, std::chrono::milliseconds timeout) {
  ioc.run_for(timeout);
  ioc.restart();
  return done;
}

// The TLS handshake of a client: SNI and, unless `insecure`, the server's certificate checked
// against `ca` (or the system's CAs) and the host name.
template <class TlsStream>
void tls_handshake(asio::io_context& ioc, TlsStream& stream, const apps::client_url& u,
                   std::chrono::milliseconds timeout) {
  SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
  beast::error_code ec;
  bool done = false;
  stream.async_handshake(asio::ssl::stream_base::client, [&](const beast::error_code& e) {
    ec = e;
    done = true;
  });
  if (!run_until(ioc, done, timeout))
    throw std::runtime_error("tls handshake with " + u.host + " timed out");
  if (ec)
    throw std::runtime_error("tls handshake with " + u.host + " failed: " + ec.message());
}

template <class Next>
std::shared_ptr<transport> upgrade(asio::io_context& ioc, websocket::stream<Next> ws,
                                   const apps::client_url& u, std::chrono::milliseconds timeout) {
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(beast::http::field::user_agent, "nanocaf-cli");
  }));
  beast::error_code ec;
  bool upgraded = false;
  ws.async_handshake(u.host + ":" + u.port, u.path, [&](const beast::error_code& e) {
    ec = e;
    upgraded = true;
  });
  if (!run_until(ioc, upgraded, timeout))
    throw std::runtime_error("websocket upgrade at " + u.path + " timed out");
  if (ec)
    throw std::runtime_error("websocket upgrade at " + u.path + " refused: " + ec.message());
  return std::make_shared<ws_transport<Next>>(std::move(ws));
}

} // namespace

std::shared_ptr<transport> transport::connect(asio::io_context& ioc, const std::string& url,
                                              std::chrono::milliseconds timeout,
                                              const tls_settings& tls) {
  apps::client_url u;
  try {
    u = apps::parse_client_url(url);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  tcp::resolver resolver{ioc};
  beast::error_code ec;
  auto endpoints = resolver.resolve(u.host, u.port, ec);
  if (ec)
    throw std::runtime_error("cannot resolve " + u.host + ": " + ec.message());
  tcp::socket socket{ioc};
  bool done = false;
  asio::async_connect(socket, endpoints, [&](const beast::error_code& e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  if (!run_until(ioc, done, timeout)) {
    socket.close();
    throw std::runtime_error("connect to " + u.host + ":" + u.port + " timed out");
  }
  if (ec)
    throw std::runtime_error("cannot connect to " + u.host + ":" + u.port + ": " + ec.message());
  socket.set_option(tcp::no_delay(true), ec);
  if (u.scheme == "tcp")
    return std::make_shared<tcp_transport<tcp::socket>>(std::move(socket));
  if (u.scheme == "ws")
    return upgrade(ioc, websocket::stream<tcp::socket>{std::move(socket)}, u, timeout);

  // tls:// and wss://
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  if (tls.insecure) {
    ctx->set_verify_mode(asio::ssl::verify_none);
  } else {
    if (tls.ca.empty())
      ctx->set_default_verify_paths();
    else
      ctx->load_verify_file(tls.ca, ec);
    if (ec)
      throw std::runtime_error("cannot read CA file " + tls.ca + ": " + ec.message());
    ctx->set_verify_mode(asio::ssl::verify_peer);
    ctx->set_verify_callback(asio::ssl::host_name_verification(u.host));
  }
  using tls_socket = asio::ssl::stream<tcp::socket>;
  if (u.scheme == "tls") {
    auto t = std::make_shared<tcp_transport<tls_socket>>(tls_socket{std::move(socket), *ctx});
    t->keep(ctx); // the TLS stream refers to its context
    tls_handshake(ioc, t->stream(), u, timeout);
    return t;
  }
  websocket::stream<tls_socket> ws{std::move(socket), *ctx};
  tls_handshake(ioc, ws.next_layer(), u, timeout);
  auto t = upgrade(ioc, std::move(ws), u, timeout);
  t->keep(ctx);
  return t;
}

} // namespace nanocaf::cli
