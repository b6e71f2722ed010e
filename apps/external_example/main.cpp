// greeter: the smallest complete nanocaf server outside nanocaf's tree. One component with two
// handlers, clients over TCP and WebSocket, and, given a master, a place in a cluster.
//   greeter TCP_PORT WS_PORT [GRPC_ADDRESS MASTER_ADDRESS]
#include <iostream>
#include <memory>
#include <string>

#include <nanocaf/cluster/cluster.hpp>
#include <nanocaf/component.hpp>
#include <nanocaf/gateway/gateway.hpp>
#include <nanocaf/gateway/signals.hpp>
#include <nanocaf/group.hpp>
#include <nanocaf/runtime.hpp>

struct hello_request {
  std::string name;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(hello_request, name)

class greeter : public nanocaf::component {
public:
  void setup() override {
    // greeter.hello {"name":"ann"} -> {"code":0,"greeting":"hello, ann"}; everyone who said
    // hello hears about the newcomer.
    handle("hello", [this](nanocaf::session& s, const hello_request& r) {
      lobby_.broadcast("onHello", nlohmann::json{{"name", r.name}});
      lobby_.add(s);
      return nlohmann::json{{"code", 0}, {"greeting", "hello, " + r.name}};
    });
    handle("count", [this](nanocaf::session&, const nanocaf::bytes&) {
      return nlohmann::json{{"code", 0}, {"count", lobby_.count()}};
    });
  }
  void after_init() override {
    on_session_closed([this](const nanocaf::session& s) { lobby_.leave(s); });
  }

private:
  nanocaf::group lobby_{"lobby"};
};

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    std::cerr << "usage: greeter TCP_PORT WS_PORT [GRPC_ADDRESS MASTER_ADDRESS]\n";
    return 2;
  }
  nanocaf::block_shutdown_signals();
  try {
    nanocaf::runtime rt;
    rt.add<greeter>(nanocaf::with_name("greeter"));
    std::unique_ptr<nanocaf::cluster::node> cluster;
    if (argc == 5) {
      nanocaf::cluster::options opts;
      opts.service_address = argv[3];
      opts.master_address = argv[4];
      cluster = std::make_unique<nanocaf::cluster::node>(rt, opts);
    }
    rt.start();
    if (cluster)
      cluster->start();
    nanocaf::gateway_options gw;
    gw.tcp_address = std::string{"127.0.0.1:"} + argv[1];
    gw.ws_address = std::string{"127.0.0.1:"} + argv[2];
    nanocaf::gateway gate{rt, gw};
    gate.start();
    std::cout << "greeter: tcp " << gate.tcp_port() << ", ws " << gate.ws_port() << std::endl;
    nanocaf::wait_for_shutdown_signal();
    gate.stop();
    if (cluster)
      cluster->stop();
    rt.stop();
  } catch (const std::exception& e) {
    std::cerr << "greeter: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
