// cluster-chat: nano's cluster demo as one program whose role is a flag.
//   cluster-chat --role master [--listen 127.0.0.1:34567]
//   cluster-chat --role chat   --listen 127.0.0.1:34580 [--master 127.0.0.1:34567]
//   cluster-chat --role gate   --listen 127.0.0.1:34570 --gate-address 127.0.0.1:34590
// The gate serves the page at http://<gate-address>/web/cluster.html.
#include <iostream>

#include <nanocaf/cluster/cluster.hpp>
#include <nanocaf/gateway/gateway.hpp>
#include <nanocaf/gateway/signals.hpp>
#include <nanocaf/log.hpp>
#include <nanocaf/runtime.hpp>

#include "../common/cluster_flags.hpp"
#include "../common/node_flags.hpp"
#include "services.hpp"

int main(int argc, char** argv) {
  nanocaf::block_shutdown_signals();
  nanocaf::apps::flags f{"cluster-chat: nano's cluster demo (roles master, gate, chat)"};
  f.add("role", "", "master, gate or chat");
  nanocaf::apps::add_cluster_flags(f, "127.0.0.1:34567");
  f.add("gate-address", "127.0.0.1:34590", "gate only: WebSocket and page address")
    .add("web", NANOCAF_CHAT_WEB_DIR, "gate only: folder served at /web/");
  nanocaf::apps::add_runtime_flags(f);
  nanocaf::apps::add_ops_flags(f);
  int code = 0;
  if (!f.parse(argc, argv, code))
    return code;
  auto role = f.get("role");
  if (role != "master" && role != "gate" && role != "chat") {
    std::cerr << "cluster-chat: --role must be master, gate or chat\n";
    return 2;
  }
  if (!nanocaf::apps::init_logging(f))
    return 2;

  try {
    auto ro = nanocaf::apps::runtime_options_from(f);
    // Session ids must differ across gates: derive the node id from the port by default.
    if (!ro.node_id)
      ro.node_id = nanocaf::split_host_port(f.get("listen")).second % 1024;
    nanocaf::runtime rt{ro};
    if (role == "master")
      rt.add<cluster_chat::topic_service>(nanocaf::with_name("TopicService"));
    else if (role == "gate")
      rt.add<cluster_chat::bind_service>(nanocaf::with_name("BindService"));
    else
      rt.add<cluster_chat::room_service>(nanocaf::with_name("RoomService"));

    auto opts = nanocaf::apps::cluster_options_from(f, role == "master");
    opts.label = opts.label.empty() ? role : opts.label;
    // JoinRoom is routed by the master and SyncMessage by the gate: both must pick the same
    // chat node for a client, or the room splits (as it does in nano's demo).
    opts.route = nanocaf::cluster::route_by_client;
    nanocaf::cluster::node cluster{rt, opts};
    rt.start();
    cluster.start();
    auto metrics = nanocaf::apps::start_metrics(f, rt);

    std::unique_ptr<nanocaf::gateway> gate;
    if (role == "gate") {
      nanocaf::gateway_options gw;
      gw.ws_address = f.get("gate-address");
      gw.max_connections = 100000;
      gw.static_dir = f.get("web");
      gate = std::make_unique<nanocaf::gateway>(rt, gw);
      gate->start();
      std::cout << "cluster chat page: http://" << gw.ws_address << "/web/cluster.html"
                << std::endl;
    }
    std::cout << "cluster-chat " << role << ": " << opts.service_address << std::endl;
    nanocaf::wait_for_shutdown_signal();
    if (gate)
      gate->stop("server shutdown");
    cluster.stop();
    rt.stop();
  } catch (const std::exception& e) {
    std::cerr << "cluster-chat: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
