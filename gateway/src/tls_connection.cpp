// A raw TCP client connection over TLS. Unlike the plain one it keeps a read buffer per
// connection: OpenSSL holds per-connection state anyway, and a TLS record may need several
// reads to decrypt.
#include <array>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "detail/gateway_context.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::detail {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

std::shared_ptr<ssl::context> make_tls_context(const std::string& cert, const std::string& key) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert, ec);
  if (ec)
    throw std::runtime_error("TLS certificate " + cert + ": " + ec.message());
  ctx->use_private_key_file(key, ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error("TLS key " + key + ": " + ec.message());
  return ctx;
}

namespace {

class tls_connection final : public connection {
public:
  tls_connection(tcp::socket socket, serial_executor ex, std::string remote, gateway_context& ctx)
    : connection(ex, std::move(remote), ctx.settings, &ctx.registry, ctx.live, ctx.stats.tcp),
      stream_(std::move(socket), *ctx.tls),
      timer_(ex_) {}

  // The handshake must finish within the HTTP timeout (a slowloris guard here too).
  void handshake(gateway_context& ctx) {
    auto self = std::static_pointer_cast<tls_connection>(shared_from_this());
    timer_.expires_after(ctx.options.http_timeout);
    timer_.async_wait(asio::bind_executor(ex_, [self](const boost::system::error_code& ec) {
      if (!ec && !self->handshaken_) {
        boost::system::error_code ignored;
        self->stream_.lowest_layer().close(ignored);
      }
    }));
    stream_.async_handshake(
      ssl::stream_base::server,
      asio::bind_executor(ex_, [self, &ctx](const boost::system::error_code& ec) {
        self->handshaken_ = true;
        self->secure_ = !ec;
        self->timer_.cancel();
        if (ec) {
          log::info("tls handshake with ", self->remote_address(), " failed: ", ec.message());
          self->fail("tls handshake failed");
          return;
        }
        self->start(ctx.rt);
      }));
  }

protected:
  void start_reading() override {
    if (finished())
      return;
    stream_.async_read_some(
      asio::buffer(buf_),
      asio::bind_executor(ex_, [self = std::static_pointer_cast<tls_connection>(shared_from_this())](
                                 const boost::system::error_code& ec, std::size_t n) {
        if (self->finished())
          return;
        if (ec) {
          self->finish(ec == asio::error::eof || ec == ssl::error::stream_truncated
                         ? std::string{"peer closed"}
                         : "read failed: " + ec.message());
          return;
        }
        if (self->on_received(self->buf_.data(), n))
          self->start_reading();
      }));
  }

  void write_batch(const std::vector<shared_bytes>& batch) override {
    if (!secure_) { // a kick (gateway stop) before the handshake finished: nothing to say
      on_written(asio::error::not_connected);
      return;
    }
    gather_.clear();
    for (auto& p : batch)
      gather_.emplace_back(p->data(), p->size());
    asio::async_write(
      stream_, gather_,
      asio::bind_executor(ex_, [self = std::static_pointer_cast<tls_connection>(shared_from_this())](
                                 const boost::system::error_code& ec, std::size_t) {
        self->on_written(ec);
      }));
  }

  void shutdown_transport(bool graceful) override {
    boost::system::error_code ignored;
    if (!graceful || !secure_) {
      stream_.lowest_layer().close(ignored);
      return;
    }
    // After a kick: close_notify, bounded by a deadline, then close.
    timer_.expires_after(std::chrono::seconds(2));
    auto self = std::static_pointer_cast<tls_connection>(shared_from_this());
    timer_.async_wait(asio::bind_executor(ex_, [self](const boost::system::error_code&) {
      boost::system::error_code ignored;
      self->stream_.lowest_layer().close(ignored);
    }));
    stream_.async_shutdown(asio::bind_executor(ex_, [self](const boost::system::error_code&) {
      self->timer_.cancel();
    }));
  }

private:
  ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  bool handshaken_ = false; // the handshake ended, well or not
  bool secure_ = false;     // it ended well
  std::array<char, 16 * 1024> buf_;
  std::vector<asio::const_buffer> gather_;
};

} // namespace

void open_tls_client(tcp::socket socket, serial_executor ex, std::string remote,
                     gateway_context& ctx) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto conn = std::make_shared<tls_connection>(std::move(socket), std::move(ex), std::move(remote), ctx);
  if (!ctx.registry.add(conn, ctx.options.max_connections)) {
    ctx.stats.tcp.refused.inc();
    log_refused("client " + conn->remote_address());
    return; // the socket closes with the connection object
  }
  conn->handshake(ctx);
}

} // namespace nanocaf::detail
