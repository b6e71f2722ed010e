// tictactoe: the example game (docs/tutorial.md builds it step by step). One program whose
// role is a flag:
//   tictactoe                          one node: lobby, rooms and the page, http://127.0.0.1:3250/web/
//   tictactoe --role master  --listen 127.0.0.1:34567                  the lobby
//   tictactoe --role backend --listen 127.0.0.1:34580                  rooms
//   tictactoe --role gate    --listen 127.0.0.1:34570 --ws 127.0.0.1:3250   clients and the page
// (scripts/cluster.sh up --game starts master, 2 gates and 2 backends.)
#include <iostream>

#include <CLI/CLI.hpp>

#include <nanocaf/server.hpp>

#include "lobby.hpp"
#include "room.hpp"

int main(int argc, char** argv) {
  nanocaf::server srv{{}, "tictactoe: a lobby and rooms of two players, on one node or a cluster"};
  std::string role = "all";
  double turn_seconds = 15;
  srv.flags().add_option("--role", role, "all (one node), master (lobby), gate (clients) or backend (rooms)")
    ->check(CLI::IsMember({"all", "master", "gate", "backend"}))->group("Game")->capture_default_str();
  srv.flags().add_option("--turn-seconds", turn_seconds, "a player silent this long on their turn forfeits")
    ->group("Game")->capture_default_str();
  srv.options().gateway.static_dir = TICTACTOE_WEB_DIR;
  if (auto exit = srv.parse(argc, argv))
    return *exit;

  auto& o = srv.options();
  if (role != "all" && !o.cluster) {
    std::cerr << "tictactoe: --role " << role << " needs --listen (this node's gRPC address)\n";
    return 2;
  }
  if (o.cluster) {
    o.cluster->is_master = role == "master";
    if (o.cluster->is_master)
      o.cluster->master_address.clear();
    o.cluster->label = role;
    // A room's messages, and the lobby's calls to open it, go to the node its id hashes to.
    o.cluster->route = nanocaf::cluster::route_by_key(nanocaf::cluster::json_field({{"room", "roomId"}}));
  }
  if (role == "master" || role == "backend") { // no clients of their own
    o.gateway.tcp_address.clear();
    o.gateway.ws_address.clear();
  }
  if (role == "all" || role == "master")
    srv.add<tictactoe::lobby>(nanocaf::with_name("lobby"));
  if (role == "all" || role == "backend") {
    tictactoe::room_settings rooms;
    rooms.turn_time = std::chrono::milliseconds(static_cast<long>(turn_seconds * 1000));
    rooms.node = o.cluster ? o.cluster->service_address : "local";
    srv.add<tictactoe::room_service>(nanocaf::with_name("room"), rooms);
  }
  if (role == "master") // a backend that is gone takes its rooms with it
    o.cluster->on_unregister = [&srv](const nanocaf::cluster::member_info& m) {
      srv.rt().call({}, "lobby.nodeLost", nlohmann::json{{"node", m.service_address}}.dump(),
                    std::chrono::seconds(3), [](const nanocaf::call_reply&) {});
    };
  if (role == "gate") // players whose room was on a node that died learn it at once
    o.cluster->on_node_lost = [](const nanocaf::session& s, const nanocaf::cluster::member_info& m) {
      if (std::find(m.services.begin(), m.services.end(), "room") != m.services.end())
        s.push("onError", nlohmann::json{{"code", 503}, {"error", "the server of your game is gone: the game has ended"}});
    };
  srv.on_started([role](nanocaf::server& s) {
    auto& gw = s.options().gateway;
    if (!gw.ws_address.empty())
      std::cout << "tictactoe " << role << ": play at http://" << gw.ws_address << "/web/" << std::endl;
    else
      std::cout << "tictactoe " << role << ": " << s.options().cluster->service_address << std::endl;
  });
  return srv.run();
}
