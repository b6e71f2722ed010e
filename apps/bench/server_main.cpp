// bench-server: a nanocaf node with the bench routes, for load clients (../shared/bench's
// loadgen, or any pomelo-protocol client).
#include <iostream>

#include <nanocaf/gateway/gateway.hpp>
#include <nanocaf/gateway/signals.hpp>
#include <nanocaf/log.hpp>
#include <nanocaf/runtime.hpp>

#include <nanocaf/cluster/cluster.hpp>

#include "../common/cluster_flags.hpp"
#include "../common/node_flags.hpp"
#include "bench_service.hpp"

int main(int argc, char** argv) {
  nanocaf::block_shutdown_signals();
  nanocaf::apps::flags f{"bench-server: nanocaf node with bench.echo, echojson, notify, join, broadcast"};
  nanocaf::apps::add_gateway_flags(f, {"127.0.0.1:3250", "127.0.0.1:3251"});
  nanocaf::apps::add_runtime_flags(f, "1");
  nanocaf::apps::add_ops_flags(f, "warn");
  f.add("role", "single", "single; or in a cluster: master, gate (clients, no bench service) or backend (bench service, no clients)");
  nanocaf::apps::add_cluster_flags(f, "127.0.0.1:24600");
  int code = 0;
  if (!f.parse(argc, argv, code))
    return code;
  if (!nanocaf::apps::init_logging(f))
    return 2;

  try {
    auto opts = nanocaf::apps::runtime_options_from(f);
    auto role = f.get("role");
    nanocaf::runtime rt{opts};
    std::shared_ptr<bench::service> svc;
    if (role == "single" || role == "backend")
      svc = rt.add<bench::service>(nanocaf::with_name("bench"));
    std::unique_ptr<nanocaf::cluster::node> cluster;
    if (role != "single")
      cluster = std::make_unique<nanocaf::cluster::node>(
        rt, nanocaf::apps::cluster_options_from(f, role == "master"));
    rt.start();
    if (cluster)
      cluster->start();
    auto metrics = nanocaf::apps::start_metrics(f, rt);
    auto gw = nanocaf::apps::gateway_options_from(f);
    std::unique_ptr<nanocaf::gateway> gate;
    if (role == "single" || role == "gate") {
      gate = std::make_unique<nanocaf::gateway>(rt, gw);
      gate->start();
      std::cout << "bench-server: tcp " << gate->tcp_port() << ", ws " << gate->ws_port() << std::endl;
    }
    nanocaf::wait_for_shutdown_signal();
    if (gate)
      gate->stop();
    if (cluster)
      cluster->stop();
    rt.stop();
    if (svc)
      std::cout << "bench-server: " << svc->notifies.load() << " notifies" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "bench-server: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
