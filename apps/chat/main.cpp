// The single-node chat demo: nano's examples/demo/chat on nanocaf. Serves its page at /web/
// and the WebSocket at /nano on the same port (or raw TCP with --tcp).
#include <atomic>
#include <iostream>

#include <nanocaf/gateway/gateway.hpp>
#include <nanocaf/gateway/signals.hpp>
#include <nanocaf/log.hpp>
#include <nanocaf/runtime.hpp>

#include "../common/node_flags.hpp"
#include "room.hpp"

namespace {

// nano's demo counts payload bytes in both directions with pipeline hooks.
struct traffic_stats {
  std::atomic<std::uint64_t> inbound{0};
  std::atomic<std::uint64_t> outbound{0};
};

} // namespace

int main(int argc, char** argv) {
  nanocaf::block_shutdown_signals();
  nanocaf::apps::flags f{"chat: nano's chat demo on nanocaf"};
  nanocaf::apps::add_gateway_flags(f, {"", "127.0.0.1:3250"});
  f.add("web", NANOCAF_CHAT_WEB_DIR, "folder served at /web/ on the WebSocket port");
  nanocaf::apps::add_runtime_flags(f);
  nanocaf::apps::add_ops_flags(f);
  int code = 0;
  if (!f.parse(argc, argv, code))
    return code;
  if (!nanocaf::apps::init_logging(f))
    return 2;

  auto stats = std::make_shared<traffic_stats>();
  auto hooks = std::make_shared<nanocaf::pipeline>();
  hooks->inbound.push_back([stats](const nanocaf::session&, nanocaf::codec::message& m) {
    stats->inbound += m.payload.size();
    return true;
  });
  hooks->outbound.push_back([stats](const nanocaf::session&, nanocaf::codec::message& m) {
    stats->outbound += m.payload.size();
    return true;
  });

  try {
    auto opts = nanocaf::apps::runtime_options_from(f);
    opts.hooks = hooks;
    nanocaf::runtime rt{opts};
    rt.add<chat::room>({"room", nanocaf::to_lower});
    rt.start();
    auto metrics = nanocaf::apps::start_metrics(f, rt);

    auto gw = nanocaf::apps::gateway_options_from(f);
    gw.static_dir = f.get("web");
    nanocaf::gateway gate{rt, gw};
    gate.start();
    if (gate.ws_port() != 0) {
      auto host = nanocaf::split_host_port(gw.ws_address).first;
      std::cout << "chat page: " << (gw.tls_cert.empty() ? "http" : "https") << "://"
                << (host == "0.0.0.0" ? "127.0.0.1" : host) << ":"
                << gate.ws_port() << "/web/" << std::endl;
    }
    if (gate.tcp_port() != 0)
      std::cout << "tcp clients: port " << gate.tcp_port() << std::endl;

    int sig = nanocaf::wait_for_shutdown_signal();
    nanocaf::log::info("signal ", sig, ": shutting down (payload bytes in ", stats->inbound.load(),
                       ", out ", stats->outbound.load(), ")");
    gate.stop("server shutdown");
    rt.stop();
  } catch (const std::exception& e) {
    std::cerr << "chat: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
