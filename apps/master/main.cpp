// master: a nanocaf cluster master with no components of its own. Members register with it,
// heartbeat to it, and learn from it who offers which service.
#include <iostream>

#include <nanocaf/cluster/cluster.hpp>
#include <nanocaf/gateway/signals.hpp>
#include <nanocaf/log.hpp>
#include <nanocaf/runtime.hpp>

#include "../common/cluster_flags.hpp"
#include "../common/node_flags.hpp"

int main(int argc, char** argv) {
  nanocaf::block_shutdown_signals();
  nanocaf::apps::flags f{"master: the membership authority of a nanocaf (or nano) cluster"};
  nanocaf::apps::add_cluster_flags(f, "127.0.0.1:34567");
  nanocaf::apps::add_ops_flags(f);
  int code = 0;
  if (!f.parse(argc, argv, code))
    return code;
  if (!nanocaf::apps::init_logging(f))
    return 2;
  try {
    nanocaf::runtime rt;
    auto opts = nanocaf::apps::cluster_options_from(f, true);
    opts.on_unregister = [](const nanocaf::cluster::member_info& m) {
      nanocaf::log::info("unregistered: ", m.service_address);
    };
    nanocaf::cluster::node cluster{rt, opts};
    rt.start();
    cluster.start();
    auto metrics = nanocaf::apps::start_metrics(f, rt);
    std::cout << "master: " << opts.service_address << std::endl;
    nanocaf::wait_for_shutdown_signal();
    cluster.stop();
    rt.stop();
  } catch (const std::exception& e) {
    std::cerr << "master: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
