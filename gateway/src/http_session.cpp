// HTTP on the WebSocket port: the upgrade to a client connection, static files, and 404s.
// nano serves its demo page next to the socket the same way (spec 1.1).
#include <optional>
#include <type_traits>

#include <boost/asio/bind_executor.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "detail/static_files.hpp"
#include "detail/ws_connection.hpp"
#include "nanocaf/codec/websocket.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf::detail {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

std::string_view mime_type(std::string_view path) {
  auto dot = path.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view{} : path.substr(dot);
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".png") return "image/png";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".ico") return "image/x-icon";
  return "text/plain; charset=utf-8";
}

std::string_view path_of(beast::string_view target) {
  std::string_view t{target.data(), target.size()};
  return t.substr(0, t.find_first_of("?#"));
}

// Over plain TCP (Stream = beast::tcp_stream) or TLS (beast::ssl_stream<beast::tcp_stream>).
template <class Stream>
class http_session : public std::enable_shared_from_this<http_session<Stream>> {
public:
  http_session(Stream stream, serial_executor ex, gateway_context& ctx)
    : stream_(std::move(stream)), ex_(std::move(ex)), ctx_(ctx) {}

  void read_request() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(16 * 1024);
    // slowloris: the request comes in time
    beast::get_lowest_layer(stream_).expires_after(ctx_.options.http_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     boost::asio::bind_executor(
                       ex_, [self = this->shared_from_this()](const beast::error_code& ec,
                                                              std::size_t) {
                         self->on_request(ec);
                       }));
  }

private:
  void on_request(const beast::error_code& ec) {
    if (ec) {
      if (ec != http::error::end_of_stream)
        log::debug("http: ", ec.message());
      close_socket(boost::asio::ip::tcp::socket::shutdown_both);
      return;
    }
    auto req = parser_->release();
    if (beast::websocket::is_upgrade(req)) {
      upgrade(std::move(req));
      return;
    }
    respond(req);
  }

  void upgrade(http::request<http::string_body> req) {
    auto path = path_of(req.target());
    if (path != ctx_.options.ws_path) {
      send_status(req, http::status::not_found, "no websocket endpoint here\n");
      return;
    }
    auto origin = req[http::field::origin];
    if (ctx_.options.check_origin
        && !ctx_.options.check_origin(std::string_view{origin.data(), origin.size()})) {
      log::info("websocket upgrade refused: origin '", origin, "' not allowed");
      send_status(req, http::status::forbidden, "origin not allowed\n");
      return;
    }
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      accept_websocket(req);
    } else {
      beast::get_lowest_layer(stream_).expires_never();
      open_websocket(std::move(stream_), std::move(req), ex_, ctx_); // WSS: Beast's stream
    }
  }

  // A plain socket answers the upgrade here and becomes a TCP connection speaking our
  // WebSocket framing (ws_framing.hpp): nothing of the handshake stays allocated.
  void accept_websocket(const http::request<http::string_body>& req) {
    auto key = req[http::field::sec_websocket_key];
    if (key.size() != 24) { // base64 of 16 bytes (RFC 6455 4.2.1)
      send_status(req, http::status::bad_request, "bad Sec-WebSocket-Key\n");
      return;
    }
    if (req[http::field::sec_websocket_version] != "13") {
      auto res = make_response(req, http::status::upgrade_required, "websocket version 13 only\n");
      res.set(http::field::sec_websocket_version, "13");
      send(std::move(res));
      return;
    }
    if (ctx_.options.max_connections != 0 && ctx_.registry.size() >= ctx_.options.max_connections) {
      ctx_.stats.ws.refused.inc();
      log_refused("websocket client " + remote());
      send_status(req, http::status::service_unavailable, "server full\n");
      return;
    }
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::switching_protocols,
                                                                  req.version());
    res->set(http::field::server, "nanocaf");
    res->set(http::field::upgrade, "websocket");
    res->set(http::field::connection, "Upgrade");
    res->set(http::field::sec_websocket_accept, codec::websocket_accept({key.data(), key.size()}));
    beast::get_lowest_layer(stream_).expires_after(ctx_.options.http_timeout);
    http::async_write(stream_, *res,
                      boost::asio::bind_executor(
                        ex_, [self = this->shared_from_this(), res](const beast::error_code& ec,
                                                                    std::size_t) {
                          if (ec) {
                            log::info("websocket handshake with ", self->remote(),
                                      " failed: ", ec.message());
                            return;
                          }
                          self->start_websocket();
                        }));
  }

  void start_websocket() {
    auto name = remote();
    auto conn = ctx_.plain_connection(stream_.release_socket(), ex_, name, ctx_.stats.ws);
    conn->use_websocket_framing(ctx_.options.max_ws_message);
    if (!ctx_.registry.add(conn, ctx_.options.max_connections)) {
      ctx_.stats.ws.refused.inc();
      log_refused("websocket client " + name);
      return;
    }
    conn->start(ctx_.rt);
  }

  std::string remote() {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    return ec ? std::string{"?"} : endpoint_text(ep);
  }

  void respond(const http::request<http::string_body>& req) {
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      send_status(req, http::status::method_not_allowed, "method not allowed\n");
      return;
    }
    auto path = path_of(req.target());
    auto& prefix = ctx_.options.static_prefix;
    if (ctx_.options.static_dir.empty()) {
      send_status(req, http::status::not_found, "not found\n");
      return;
    }
    if (path == "/" || std::string{path} + "/" == prefix) {
      auto res = make_response(req, http::status::found, "");
      res.set(http::field::location, prefix);
      send(std::move(res));
      return;
    }
    if (path.substr(0, prefix.size()) != prefix) {
      send_status(req, http::status::not_found, "not found\n");
      return;
    }
    serve_file(req, path);
  }

  // A regular file of the folder, streamed by Beast in small reads as the socket takes it:
  // nothing is read whole, and nothing here waits for anything but the disk.
  void serve_file(const http::request<http::string_body>& req, std::string_view path) {
    auto& prefix = ctx_.options.static_prefix;
    auto found = find_static_file(ctx_.options.static_dir, path.substr(prefix.size()),
                                  ctx_.options.max_static_file);
    using outcome = static_lookup::outcome;
    if (found.result == outcome::redirect_to_folder) {
      auto res = make_response(req, http::status::moved_permanently, "");
      res.set(http::field::location, std::string{path} + "/");
      send(std::move(res));
      return;
    }
    static log::throttle too_large_lines;
    if (std::uint64_t skipped = 0; found.result == outcome::too_large && too_large_lines.allow(skipped))
      log::warn("http: ", path, " not served: larger than ", ctx_.options.max_static_file,
                " bytes (gateway_options::max_static_file)",
                skipped ? " (and " + std::to_string(skipped) + " more such requests)" : "");
    if (found.result != outcome::file) {
      send_status(req, http::status::not_found, "not found\n");
      return;
    }
    beast::file_posix file;
    file.native_handle(found.fd); // the file now owns the descriptor
    http::response<http::file_body> res{http::status::ok, req.version()};
    beast::error_code ec;
    res.body().reset(std::move(file), ec);
    if (ec) {
      send_status(req, http::status::not_found, "not found\n");
      return;
    }
    res.set(http::field::server, "nanocaf");
    res.set(http::field::content_type, std::string{mime_type(found.path)});
    res.set(http::field::cache_control, "no-cache");
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    if (req.method() == http::verb::head) {
      http::response<http::empty_body> head{res.base()};
      head.content_length(found.size);
      send(std::move(head));
      return;
    }
    send(std::move(res));
  }

  http::response<http::string_body> make_response(const http::request<http::string_body>& req,
                                                  http::status status, std::string body) {
    http::response<http::string_body> res{status, req.version()};
    res.set(http::field::server, "nanocaf");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  void send_status(const http::request<http::string_body>& req, http::status status,
                   const char* text) {
    auto res = make_response(req, status, text);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    send(std::move(res));
  }

  template <class Body>
  void send(http::response<Body> res) {
    auto shared = std::make_shared<http::response<Body>>(std::move(res));
    beast::get_lowest_layer(stream_).expires_after(ctx_.options.http_timeout);
    http::async_write(stream_, *shared,
                      boost::asio::bind_executor(
                        ex_, [self = this->shared_from_this(), shared](const beast::error_code& ec,
                                                                       std::size_t) {
                          if (ec || !shared->keep_alive()) {
                            self->close_socket(boost::asio::ip::tcp::socket::shutdown_send);
                            return;
                          }
                          self->read_request();
                        }));
  }

  void close_socket(boost::asio::ip::tcp::socket::shutdown_type how) {
    beast::get_lowest_layer(stream_).socket().shutdown(how, ignored_);
  }

  Stream stream_;
  serial_executor ex_;
  gateway_context& ctx_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  beast::error_code ignored_;
};

} // namespace

void serve_http(boost::asio::ip::tcp::socket socket, serial_executor ex, gateway_context& ctx) {
  if (!ctx.tls) {
    std::make_shared<http_session<beast::tcp_stream>>(beast::tcp_stream{std::move(socket)},
                                                      std::move(ex), ctx)
      ->read_request();
    return;
  }
  // HTTPS and WSS: the TLS handshake first, within the same timeout as a request.
  using tls_stream = beast::ssl_stream<beast::tcp_stream>;
  auto stream = std::make_shared<tls_stream>(beast::tcp_stream{std::move(socket)}, *ctx.tls);
  beast::get_lowest_layer(*stream).expires_after(ctx.options.http_timeout);
  stream->async_handshake(
    boost::asio::ssl::stream_base::server,
    boost::asio::bind_executor(ex, [stream, ex, &ctx](const beast::error_code& ec) {
      if (ec) {
        log::debug("https: tls handshake failed: ", ec.message());
        return; // the stream closes with its last reference
      }
      std::make_shared<http_session<tls_stream>>(std::move(*stream), ex, ctx)->read_request();
    }));
}

} // namespace nanocaf::detail
