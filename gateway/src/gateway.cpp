#include "nanocaf/gateway/gateway.hpp"

#include <pthread.h>

#include <stdexcept>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "detail/gateway_context.hpp"
#include "detail/polled_tcp_connection.hpp"
#include "detail/tcp_connection.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/wiring/runtime.hpp"

namespace nanocaf {

namespace asio = boost::asio;
using asio::ip::tcp;

std::pair<std::string, std::uint16_t> split_host_port(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    throw std::invalid_argument("address '" + address + "' is not host:port");
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty())
    host = "0.0.0.0";
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1 || port > 65535)
      throw std::invalid_argument("bad port");
  } catch (const std::exception&) {
    throw std::invalid_argument("address '" + address + "' has no valid port");
  }
  return {host, static_cast<std::uint16_t>(port)};
}

namespace detail {

std::string endpoint_text(const tcp::endpoint& ep) {
  auto addr = ep.address();
  return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":"
         + std::to_string(ep.port());
}

std::shared_ptr<connection> gateway_context::plain_connection(tcp::socket socket,
                                                             serial_executor ex,
                                                             std::string remote,
                                                             transport_metrics& transport) {
  if (settings.client_poller != nullptr)
    return std::make_shared<polled_tcp_connection>(std::move(socket), std::move(ex),
                                                   std::move(remote), settings, &registry, live,
                                                   transport);
  return std::make_shared<tcp_connection>(std::move(socket), std::move(ex), std::move(remote),
                                          settings, &registry, live, transport);
}

void gateway_context::open(const std::shared_ptr<connection>& c) {
  if (!registry.add(c, options.max_connections)) {
    stats.tcp.refused.inc();
    log_refused("client " + c->remote_address());
    c->close();
    return;
  }
  c->start(rt);
}

namespace {

// Accepts sockets on one address and hands each to `on_accept` with its serial executor.
class listener : public std::enable_shared_from_this<listener> {
public:
  using handler = std::function<void(tcp::socket, serial_executor)>;

  listener(asio::io_context& ioc, std::size_t io_threads, const std::string& address,
           handler on_accept)
    : ioc_(ioc),
      io_threads_(io_threads),
      acceptor_(ioc),
      pause_(ioc),
      on_accept_(std::move(on_accept)) {
    auto [host, port] = split_host_port(address);
    tcp::endpoint ep{asio::ip::make_address(host), port};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    boost::system::error_code ec;
    acceptor_.bind(ep, ec);
    if (ec)
      throw std::runtime_error("cannot listen on " + address + ": " + ec.message());
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  void run() { accept(); }
  void close() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
      self->pause_.cancel();
    });
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

private:
  void accept() {
    auto ex = detail::make_serial_executor(ioc_, io_threads_);
    acceptor_.async_accept(ex, [self = shared_from_this(), ex](const boost::system::error_code& ec,
                                                               tcp::socket socket) mutable {
      if (ec == asio::error::operation_aborted || !self->acceptor_.is_open())
        return;
      if (ec) {
        self->accept_failed(ec);
        return;
      }
      if (self->failures_ != 0) {
        log::info("accepting again after ", self->failures_, " failed accept(s)");
        self->failures_ = 0;
      }
      self->on_accept_(tcp::socket{std::move(socket)}, ex);
      self->accept();
    });
  }

  // Out of descriptors (or memory): the pending connection stays in the backlog, so accepting
  // again at once would spin. Pause, log once per episode, try again.
  void accept_failed(const boost::system::error_code& ec) {
    if (failures_++ == 0)
      log::warn("accept failed: ", ec.message(), "; retrying every 100 ms");
    pause_.expires_after(std::chrono::milliseconds(100));
    pause_.async_wait([self = shared_from_this()](const boost::system::error_code& wait_ec) {
      if (!wait_ec && self->acceptor_.is_open())
        self->accept();
    });
  }

  asio::io_context& ioc_;
  std::size_t io_threads_; // threads running ioc_: more than one needs strands
  tcp::acceptor acceptor_;
  asio::steady_timer pause_;
  std::size_t failures_ = 0;
  handler on_accept_;
};

} // namespace
} // namespace detail

struct gateway::impl {
  impl(runtime& rt, gateway_options opts) : ctx(rt, std::move(opts)) {}

  detail::gateway_context ctx;
  std::shared_ptr<detail::listener> tcp_listener;
  std::shared_ptr<detail::listener> ws_listener;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  bool started = false;
  bool stopped = false;
  bool hosting = false; // the Asio thread runs the node's actors
};

gateway::gateway(runtime& rt, gateway_options options)
  : impl_(std::make_unique<impl>(rt, std::move(options))) {}

gateway::~gateway() { stop(); }

void gateway::start() {
  auto& d = *impl_;
  if (d.started)
    return;
  auto& ctx = d.ctx;
  if (!ctx.options.tls_cert.empty() || !ctx.options.tls_key.empty()) {
    if (ctx.options.tls_cert.empty() || ctx.options.tls_key.empty())
      throw std::runtime_error("client TLS needs both a certificate and a key file");
    ctx.tls = detail::make_tls_context(ctx.options.tls_cert, ctx.options.tls_key);
  }
  const char* secure = ctx.tls ? " over TLS" : "";
  if (ctx.options.io_threads <= 1) { // before accepting
    ctx.client_poller = std::make_unique<detail::poller>(ctx.ioc);
    ctx.settings.client_poller = ctx.client_poller.get();
  }
  if (!ctx.options.tcp_address.empty()) {
    d.tcp_listener = std::make_shared<detail::listener>(
      ctx.ioc, ctx.options.io_threads, ctx.options.tcp_address,
      [&ctx](tcp::socket socket, detail::serial_executor ex) {
        boost::system::error_code ec;
        auto remote = socket.remote_endpoint(ec);
        auto name = ec ? std::string{"?"} : detail::endpoint_text(remote);
        if (ctx.tls) {
          detail::open_tls_client(std::move(socket), std::move(ex), std::move(name), ctx);
          return;
        }
        ctx.open(ctx.plain_connection(std::move(socket), std::move(ex), std::move(name),
                                      ctx.stats.tcp));
      });
    d.tcp_listener->run();
    log::info("tcp clients", secure, " on ", ctx.options.tcp_address, " (port ",
              d.tcp_listener->port(), ")");
  }
  if (!ctx.options.ws_address.empty()) {
    d.ws_listener = std::make_shared<detail::listener>(
      ctx.ioc, ctx.options.io_threads, ctx.options.ws_address,
      [&ctx](tcp::socket socket, detail::serial_executor ex) {
        detail::serve_http(std::move(socket), std::move(ex), ctx);
      });
    d.ws_listener->run();
    log::info("websocket clients", secure, " on ", ctx.options.ws_address, ctx.options.ws_path, " (port ",
              d.ws_listener->port(), ")");
  }
  d.started = true;
  d.work.emplace(ctx.ioc.get_executor());
  // With one Asio thread and the "io" policy the node's actors run on that thread too.
  if (ctx.options.io_threads <= 1) {
    d.hosting = wiring::host_actors(ctx.rt, [&ctx] {
      asio::post(ctx.ioc, [&ctx] { wiring::run_hosted_actors(ctx.rt); });
    });
    if (d.hosting)
      log::info("actors run on the Asio thread (scheduler policy io)");
  }
  auto n = std::max<std::size_t>(1, ctx.options.io_threads);
  for (std::size_t i = 0; i < n; ++i)
    d.threads.emplace_back([&ctx] {
      pthread_setname_np(pthread_self(), "nanocaf.io"); // as shown by top -H and gdb
      for (;;) {
        try {
          ctx.ioc.run();
          return;
        } catch (const std::exception& e) {
          // A handler must never take the process down; log and keep serving.
          log::error("io thread: ", e.what());
        }
      }
    });
}

void gateway::stop(const std::string& reason) {
  auto& d = *impl_;
  if (!d.started || d.stopped)
    return;
  // An actor under the io policy runs on the Asio thread: joining it from there would end in
  // std::terminate (a thread that cannot be joined) once the gateway is destroyed.
  if (d.ctx.ioc.get_executor().running_in_this_thread())
    throw std::logic_error("gateway::stop called on its own Asio thread (from a handler?)");
  d.stopped = true;
  if (d.tcp_listener)
    d.tcp_listener->close();
  if (d.ws_listener)
    d.ws_listener->close();
  auto kick = make_kick_packet(reason);
  for (auto& c : d.ctx.registry.snapshot())
    c->kick(kick);
  // Give the kicks a moment to reach the clients, then stop the Asio threads.
  for (int i = 0; i < 100 && d.ctx.registry.size() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (d.hosting)
    wiring::unhost_actors(d.ctx.rt); // before the Asio thread stops: the workers take them back
  d.work.reset();
  d.ctx.ioc.stop();
  for (auto& t : d.threads)
    t.join();
  d.threads.clear();
  // From now on sessions cannot reach (or keep alive) a connection: they may outlive the
  // io_context, the connections must not.
  std::unique_lock<std::shared_mutex> guard{d.ctx.live->mu};
  d.ctx.live->open = false;
}

std::uint16_t gateway::tcp_port() const noexcept {
  return impl_->tcp_listener ? impl_->tcp_listener->port() : 0;
}

std::uint16_t gateway::ws_port() const noexcept {
  return impl_->ws_listener ? impl_->ws_listener->port() : 0;
}

std::size_t gateway::connections() const noexcept { return impl_->ctx.registry.size(); }

} // namespace nanocaf
