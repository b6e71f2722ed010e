// cluster-chat: nano's cluster demo as one program whose role is a flag.
//   cluster-chat --role master [--listen 127.0.0.1:34567]
//   cluster-chat --role chat   --listen 127.0.0.1:34580 [--master 127.0.0.1:34567]
//   cluster-chat --role gate   --listen 127.0.0.1:34570 --gate-address 127.0.0.1:34590
// The gate serves the page at http://<gate-address>/web/cluster.html.
#include <iostream>

#include <CLI/CLI.hpp>

#include <nanocaf/server.hpp>

#include "services.hpp"

int main(int argc, char** argv) {
  nanocaf::server_options o;
  o.gateway = {};
  o.gateway.static_dir = NANOCAF_CHAT_WEB_DIR;
  o.gateway.max_connections = 100000;
  o.cluster.emplace().service_address = "127.0.0.1:34567";
  nanocaf::server srv{std::move(o), "cluster-chat: nano's cluster demo (roles master, gate, chat)"};
  std::string role, gate_address = "127.0.0.1:34590";
  srv.flags().add_option("--role", role, "master, gate or chat")->required()
    ->check(CLI::IsMember({"master", "gate", "chat"}));
  srv.flags().add_option("--gate-address", gate_address, "gate only: WebSocket and page address")
    ->capture_default_str();
  if (auto exit = srv.parse(argc, argv))
    return *exit;
  auto& opts = srv.options();
  if (role == "master")
    srv.add<cluster_chat::topic_service>(nanocaf::with_name("TopicService"));
  else if (role == "gate")
    srv.add<cluster_chat::bind_service>(nanocaf::with_name("BindService"));
  else
    srv.add<cluster_chat::room_service>(nanocaf::with_name("RoomService"));
  auto& c = *opts.cluster;
  c.is_master = role == "master";
  if (c.is_master)
    c.master_address.clear();
  c.label = c.label.empty() ? role : c.label;
  // JoinRoom is routed by the master and SyncMessage by the gate: both must pick the same
  // chat node for a client, or the room splits (as it does in nano's demo).
  c.route = nanocaf::cluster::route_by_client;
  if (role == "gate" && opts.gateway.tcp_address.empty() && opts.gateway.ws_address.empty())
    opts.gateway.ws_address = gate_address;
  if (role != "gate")
    opts.gateway.tcp_address.clear(), opts.gateway.ws_address.clear();
  srv.on_started([role](nanocaf::server& s) {
    if (auto* gate = s.client_gateway(); gate && gate->ws_port())
      std::cout << "cluster chat page: http://" << s.options().gateway.ws_address
                << "/web/cluster.html" << std::endl;
    std::cout << "cluster-chat " << role << ": " << s.options().cluster->service_address << std::endl;
  });
  return srv.run();
}
