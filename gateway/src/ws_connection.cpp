#include "detail/ws_connection.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "nanocaf/log.hpp"

namespace nanocaf::detail {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

// Beast's WebSocket stream as the connection: for WSS (Stream =
// beast::ssl_stream<beast::tcp_stream>), where the TLS stream does the reading. Plain WebSocket
// clients get a tcp_connection with our own framing instead (http_session.cpp).
template <class Stream>
class ws_connection final : public connection {
public:
  ws_connection(Stream stream, serial_executor ex, std::string remote, gateway_context& ctx)
    : connection(std::move(ex), std::move(remote), ctx.settings, &ctx.registry, ctx.live,
                 ctx.stats.ws),
      ws_(std::move(stream)) {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = ctx.options.http_timeout;
    t.idle_timeout = websocket::stream_base::none(); // liveness is the heartbeat's job
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.read_message_max(ctx.options.max_ws_message);
    ws_.auto_fragment(false);
    ws_.binary(true);
  }

  void accept(beast::http::request<beast::http::string_body> req, runtime& rt) {
    auto self = std::static_pointer_cast<ws_connection>(this->shared_from_this());
    ws_.async_accept(req, boost::asio::bind_executor(
                            ex_, [self, &rt](const beast::error_code& ec) {
                              if (ec) {
                                log::info("websocket handshake with ", self->remote_address(),
                                          " failed: ", ec.message());
                                self->fail("websocket handshake failed");
                                return;
                              }
                              self->start(rt);
                            }));
  }

protected:
  void start_reading() override {
    if (finished())
      return;
    ws_.async_read_some(
      rbuf_, 64 * 1024,
      boost::asio::bind_executor(
        ex_, [self = std::static_pointer_cast<ws_connection>(this->shared_from_this())](
               const beast::error_code& ec, std::size_t) { self->on_read(ec); }));
  }

  void write_batch(const std::vector<shared_bytes>& batch) override { write_one(batch, 0); }

  void shutdown_transport(bool graceful) override {
    if (!graceful) {
      beast::get_lowest_layer(ws_).close();
      return;
    }
    // After a kick: a close frame, so browsers see a clean close; bounded by the timeout.
    ws_.async_close(websocket::close_code::normal,
                    boost::asio::bind_executor(
                      ex_, [self = std::static_pointer_cast<ws_connection>(this->shared_from_this())](
                             const beast::error_code&) {
                        beast::get_lowest_layer(self->ws_).close();
                      }));
  }

private:
  void on_read(const beast::error_code& ec) {
    if (finished())
      return;
    if (ec) {
      finish(ec == websocket::error::closed ? std::string{"peer closed"}
                                            : "read failed: " + ec.message());
      return;
    }
    auto data = rbuf_.cdata();
    bool ok = on_bytes(std::string_view{static_cast<const char*>(data.data()), data.size()});
    rbuf_.consume(rbuf_.size());
    if (ok)
      start_reading();
  }

  // One packet per binary message (spec 1.1); the batch stays alive until on_written.
  void write_one(const std::vector<shared_bytes>& batch, std::size_t i) {
    if (i == batch.size()) {
      on_written({});
      return;
    }
    ws_.async_write(boost::asio::buffer(*batch[i]),
                    boost::asio::bind_executor(
                      ex_, [self = std::static_pointer_cast<ws_connection>(this->shared_from_this()),
                            &batch, i](const beast::error_code& ec, std::size_t) {
                        if (ec) {
                          self->on_written(ec);
                          return;
                        }
                        self->write_one(batch, i + 1);
                      }));
  }

  websocket::stream<Stream> ws_;
  beast::flat_buffer rbuf_;
};

template <class Stream>
void open(Stream stream, beast::http::request<beast::http::string_body> req, serial_executor ex,
          gateway_context& ctx) {
  beast::error_code ec;
  auto remote = beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
  auto conn = std::make_shared<ws_connection<Stream>>(
    std::move(stream), std::move(ex), ec ? std::string{"?"} : endpoint_text(remote), ctx);
  if (!ctx.registry.add(conn, ctx.options.max_connections)) {
    ctx.stats.ws.refused.inc();
    log_refused("websocket client " + conn->remote_address());
    return; // the stream closes with the connection object
  }
  conn->accept(std::move(req), ctx.rt);
}

} // namespace

void open_websocket(beast::ssl_stream<beast::tcp_stream> stream,
                    beast::http::request<beast::http::string_body> req, serial_executor ex,
                    gateway_context& ctx) {
  open(std::move(stream), std::move(req), std::move(ex), ctx);
}

} // namespace nanocaf::detail
