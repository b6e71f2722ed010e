// The single-node chat demo: nano's examples/demo/chat on nanocaf. Serves its page at /web/
// and the WebSocket at /nano on the same port (or raw TCP with --tcp).
#include <atomic>
#include <iostream>

#include <nanocaf/gateway/gateway.hpp>
#include <nanocaf/gateway/signals.hpp>
#include <nanocaf/log.hpp>
#include <nanocaf/runtime.hpp>

#include "../common/flags.hpp"
#include "../common/logging.hpp"
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
  f.add("ws", "127.0.0.1:3250", "WebSocket and web page address (empty: off)")
    .add("tcp", "", "raw TCP client address (empty: off)")
    .add("path", "/nano", "WebSocket path")
    .add("web", NANOCAF_CHAT_WEB_DIR, "folder served at /web/")
    .add("heartbeat", "30", "client heartbeat interval in seconds")
    .add("serializer", "json", "payload serializer: json or protobuf")
    .add("node-id", "1", "node id in session ids (0-1023)")
    .add("threads", "0", "CAF worker threads (0: one per core)")
    .add("log-level", "info", "debug, info, warn, error or off");
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

  nanocaf::runtime_options opts;
  opts.heartbeat = std::chrono::milliseconds(static_cast<long>(f.number("heartbeat") * 1000));
  opts.serializer = f.get("serializer") == "protobuf" ? nanocaf::serializer_kind::protobuf
                                                       : nanocaf::serializer_kind::json;
  opts.node_id = static_cast<std::uint16_t>(f.number("node-id"));
  opts.worker_threads = static_cast<std::size_t>(f.number("threads"));
  opts.hooks = hooks;

  try {
    nanocaf::runtime rt{opts};
    rt.add<chat::room>({"room", nanocaf::to_lower});
    rt.start();

    nanocaf::gateway_options gw;
    gw.ws_address = f.get("ws");
    gw.tcp_address = f.get("tcp");
    gw.ws_path = f.get("path");
    gw.static_dir = f.get("web");
    nanocaf::gateway gate{rt, gw};
    gate.start();
    if (gate.ws_port() != 0) {
      auto host = nanocaf::split_host_port(gw.ws_address).first;
      std::cout << "chat page: http://" << (host == "0.0.0.0" ? "127.0.0.1" : host) << ":"
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
