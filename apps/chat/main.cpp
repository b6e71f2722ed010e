// The single-node chat demo: nano's examples/demo/chat on nanocaf. Serves its page at /web/
// and the WebSocket at /nano on the same port (or raw TCP with --tcp).
#include <atomic>
#include <iostream>

#include <nanocaf/log.hpp>
#include <nanocaf/server.hpp>

#include "room.hpp"

namespace {

// nano's demo counts payload bytes in both directions with pipeline hooks.
struct traffic_stats {
  std::atomic<std::uint64_t> inbound{0};
  std::atomic<std::uint64_t> outbound{0};
};

} // namespace

int main(int argc, char** argv) {
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
  nanocaf::server_options o;
  o.runtime.hooks = hooks;
  o.gateway.static_dir = NANOCAF_CHAT_WEB_DIR;
  nanocaf::server srv{std::move(o), "chat: nano's chat demo on nanocaf"};
  srv.add<chat::room>({"room", nanocaf::to_lower});
  srv.on_started([](nanocaf::server& s) {
    auto& gate = *s.client_gateway();
    auto& gw = s.options().gateway;
    if (gate.ws_port() != 0) {
      auto host = nanocaf::split_host_port(gw.ws_address).first;
      std::cout << "chat page: " << (gw.tls_cert.empty() ? "http" : "https") << "://"
                << (host == "0.0.0.0" ? "127.0.0.1" : host) << ":" << gate.ws_port() << "/web/"
                << std::endl;
    }
    if (gate.tcp_port() != 0)
      std::cout << "tcp clients: port " << gate.tcp_port() << std::endl;
  });
  int code = srv.run(argc, argv);
  nanocaf::log::info("payload bytes in ", stats->inbound.load(), ", out ", stats->outbound.load());
  return code;
}
