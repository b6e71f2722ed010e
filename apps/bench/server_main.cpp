// bench-server: a nanocaf node with the bench routes, for load clients (../shared/bench's
// loadgen, or any pomelo-protocol client).
#include <iostream>

#include <CLI/CLI.hpp>

#include <nanocaf/server.hpp>

#include "bench_service.hpp"

int main(int argc, char** argv) {
  nanocaf::server_options o;
  o.gateway.tcp_address = "127.0.0.1:3250";
  o.gateway.ws_address = "127.0.0.1:3251";
  o.runtime.worker_threads = 1;
  o.log_level = "warn";
  o.cluster.emplace().service_address = "127.0.0.1:24600";
  nanocaf::server srv{std::move(o), "bench-server: nanocaf node with bench.echo, echojson, notify, join, broadcast"};
  std::string role = "single";
  srv.flags().add_option("--role", role, "single; or in a cluster: master, gate (clients, no bench service) or backend (bench service, no clients)")
    ->check(CLI::IsMember({"single", "master", "gate", "backend"}))->capture_default_str();
  if (auto exit = srv.parse(argc, argv))
    return *exit;
  auto& opts = srv.options();
  if (role == "single")
    opts.cluster.reset();
  else if (role == "master")
    opts.cluster->is_master = true, opts.cluster->master_address.clear();
  if (role == "master" || role == "backend") // clients only where the role has them
    opts.gateway.tcp_address.clear(), opts.gateway.ws_address.clear();
  std::shared_ptr<bench::service> svc;
  if (role == "single" || role == "backend")
    svc = srv.add<bench::service>(nanocaf::with_name("bench"));
  srv.on_started([](nanocaf::server& s) {
    if (auto* gate = s.client_gateway())
      std::cout << "bench-server: tcp " << gate->tcp_port() << ", ws " << gate->ws_port() << std::endl;
  });
  int code = srv.run();
  if (svc)
    std::cout << "bench-server: " << svc->notifies.load() << " notifies" << std::endl;
  return code;
}
