#include "nanocaf/gateway/metrics_endpoint.hpp"

#include <algorithm>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "nanocaf/gateway/gateway.hpp"
#include "nanocaf/log.hpp"

namespace nanocaf {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// A scraper sends its request as soon as it connects: one that has not within this time is
// not a scraper.
constexpr auto request_deadline = std::chrono::seconds(2);

// One request per connection: read it (with a deadline), answer, close.
class scrape : public std::enable_shared_from_this<scrape> {
public:
  scrape(tcp::socket socket, metrics::registry& registry, std::size_t& open)
    : stream_(std::move(socket)), registry_(registry), open_(open) {
    ++open_;
  }
  ~scrape() { --open_; }

  void run() {
    stream_.expires_after(request_deadline);
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                       self->reading_ = false;
                       if (!ec)
                         self->answer();
                     });
  }

  /// Still waiting for its request (an idle connection, or a scraper's first bytes).
  bool reading() const noexcept { return reading_; }
  /// Makes room for a newer connection: its read ends, and with it the scrape.
  void evict() { stream_.socket().close(ignored_); }

private:
  void answer() {
    auto target = request_.target();
    auto path = target.substr(0, target.find('?'));
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(request_.version());
    res->keep_alive(false);
    res->set(http::field::server, "nanocaf");
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      res->result(http::status::method_not_allowed);
      res->body() = "GET /metrics\n";
    } else if (path == "/metrics") {
      res->result(http::status::ok);
      res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      if (request_.method() == http::verb::get)
        res->body() = registry_.render();
    } else {
      res->result(http::status::not_found);
      res->body() = "metrics are at /metrics\n";
    }
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](const beast::error_code&, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  metrics::registry& registry_;
  std::size_t& open_; // the endpoint's count of open scrapes (its one thread only)
  bool reading_ = true;
  beast::error_code ignored_;
};

// Connections open at once, so that a flood cannot grow memory (a scraper needs one or two).
// When all are taken, the oldest still waiting for its request gives way to the newcomer:
// idle connections cannot keep a scraper out.
constexpr std::size_t max_open_scrapes = 32;

} // namespace

struct metrics_endpoint::impl {
  impl(metrics::registry& r, std::string a) : registry(r), address(std::move(a)), acceptor(ioc) {}

  void accept() {
    acceptor.async_accept([this](const beast::error_code& ec, tcp::socket socket) {
      if (!acceptor.is_open())
        return;
      if (!ec) {
        forget_ended();
        if (open_scrapes < max_open_scrapes || evict_oldest_idle()) {
          auto s = std::make_shared<scrape>(std::move(socket), registry, open_scrapes);
          s->run();
          recent.push_back(s);
        } // else every slot is answering a scrape: the newcomer is closed here

      }
      accept();
    });
  }

  void forget_ended() {
    recent.erase(std::remove_if(recent.begin(), recent.end(),
                                [](const std::weak_ptr<scrape>& w) { return w.expired(); }),
                 recent.end());
  }
  // True when an idle connection made room.
  bool evict_oldest_idle() {
    for (auto& w : recent) // oldest first
      if (auto s = w.lock(); s && s->reading()) {
        s->evict();
        return true;
      }
    return false;
  }

  metrics::registry& registry;
  std::string address;
  std::vector<std::weak_ptr<scrape>> recent; // open scrapes in the order they came
  std::size_t open_scrapes = 0; // declared before ioc: scrapes die with it and count down
  asio::io_context ioc{1};
  tcp::acceptor acceptor;
  std::thread thread;
  std::uint16_t port = 0;
};

metrics_endpoint::metrics_endpoint(metrics::registry& registry, std::string address)
  : impl_(std::make_unique<impl>(registry, std::move(address))) {}

metrics_endpoint::~metrics_endpoint() { stop(); }

void metrics_endpoint::start() {
  auto& d = *impl_;
  if (d.thread.joinable())
    return;
  auto [host, port] = split_host_port(d.address);
  tcp::endpoint ep{asio::ip::make_address(host), port};
  beast::error_code ec;
  d.acceptor.open(ep.protocol(), ec);
  if (!ec)
    d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    d.acceptor.bind(ep, ec);
  if (!ec)
    d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("metrics: cannot listen on " + d.address + ": " + ec.message());
  d.port = d.acceptor.local_endpoint().port();
  d.accept();
  d.thread = std::thread([&d] {
    for (;;) {
      try {
        d.ioc.run();
        return;
      } catch (const std::exception& e) {
        log::error("metrics endpoint: ", e.what());
      }
    }
  });
  log::info("metrics on http://", host, ":", d.port, "/metrics");
}

void metrics_endpoint::stop() {
  auto& d = *impl_;
  if (!d.thread.joinable())
    return;
  asio::post(d.ioc, [&d] {
    beast::error_code ignored;
    d.acceptor.close(ignored);
  });
  d.ioc.stop();
  d.thread.join();
}

std::uint16_t metrics_endpoint::port() const noexcept { return impl_->port; }

} // namespace nanocaf
