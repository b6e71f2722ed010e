// master: a nanocaf cluster master with no components of its own. Members register with it,
// heartbeat to it, and learn from it who offers which service.
#include <nanocaf/log.hpp>
#include <nanocaf/server.hpp>

int main(int argc, char** argv) {
  nanocaf::server_options o;
  o.gateway = {}; // no clients
  auto& c = o.cluster.emplace();
  c.service_address = "127.0.0.1:34567";
  c.is_master = true;
  c.on_unregister = [](const nanocaf::cluster::member_info& m) {
    nanocaf::log::info("unregistered: ", m.service_address);
  };
  nanocaf::server srv{std::move(o), "master: the membership authority of a nanocaf (or nano) cluster"};
  srv.on_started([](nanocaf::server& s) {
    nanocaf::log::info("master: ", s.options().cluster->service_address);
  });
  return srv.run(argc, argv);
}
