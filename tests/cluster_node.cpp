// cluster-test-node: a cluster node for the multi-process tests. Every node hosts one service
// (named by --service) with handlers that exercise the cluster, and a gate also takes TCP
// clients. Not for users: apps/cluster_chat is the demo.
#include <iostream>

#include <nanocaf/cluster/cluster.hpp>
#include <nanocaf/gateway/gateway.hpp>
#include <nanocaf/gateway/signals.hpp>
#include <nanocaf/group.hpp>
#include <nanocaf/log.hpp>
#include <nanocaf/runtime.hpp>

#include "cluster_flags.hpp"
#include "node_flags.hpp"

namespace {

using json = nlohmann::json;

class probe : public nanocaf::component {
public:
  probe(nanocaf::cluster::node** cluster, std::string address)
    : cluster_(cluster), address_(std::move(address)) {}

  void setup() override {
    handle("echo", [](nanocaf::session&, const nanocaf::bytes& b) { return b; });
    handle("whoami", [](nanocaf::session& s, const nanocaf::bytes&) {
      return json{{"uid", s.uid()}, {"service", "?"}};
    });
    handle("push", [](nanocaf::session& s, const json& j) {
      for (int i = 0; i < j.value("n", 1); ++i)
        s.push("onPush", json{{"i", i}});
      return json{{"code", 0}};
    });
    handle("bind", [](nanocaf::session& s, const json& j) {
      s.bind(j.at("uid").get<std::int64_t>());
      return json{{"uid", s.uid()}};
    });
    // The client's state, which follows it to every node.
    handle("set", [](nanocaf::session& s, const json& j) {
      auto err = s.set(j.at("k").get<std::string>(), j.at("v"));
      return json{{"code", err == nanocaf::errc::ok ? 0 : 413}, {"error", nanocaf::to_string(err)}};
    });
    handle("remove", [](nanocaf::session& s, const json& j) {
      s.remove(j.at("k").get<std::string>());
      return json{{"code", 0}};
    });
    handle("get", [](nanocaf::session& s, const json& j) {
      return json{{"v", s.value(j.at("k").get<std::string>())}, {"uid", s.uid()}, {"all", s.state()}};
    });
    handle("pin", [](nanocaf::session& s, const json& j) {
      s.bind_node(j.at("service").get<std::string>(), j.at("node").get<std::string>());
      return json{{"code", 0}};
    });
    handle("where", [this](nanocaf::session&, const nanocaf::bytes&) { return json{{"node", address_}}; });
    handle("close", [](nanocaf::session& s, const nanocaf::bytes&) { s.close(); });
    handle("kick", [](nanocaf::session& s, const nanocaf::bytes&) { s.kick("from a backend"); });
    handle("never", [](nanocaf::session&, const nanocaf::bytes&) {}); // a request left pending
    // Server-only: other nodes' components call it, clients of any gate get 404.
    handle_internal("secret", [](nanocaf::session&, const json& j) {
      return json{{"secret", true}, {"got", j}};
    });
    handle("fail", [](nanocaf::session&, const nanocaf::bytes&) -> json {
      throw std::runtime_error("backend detail: db at 10.1.2.3 refused");
    });
    // Answers after {"ms":N}: a request still in flight when the node is told to stop.
    handle("later", [this](nanocaf::session& s, const json& j) {
      auto mid = s.last_mid();
      after(std::chrono::milliseconds(j.value("ms", 300)),
            [s, mid] { s.response_to(mid, json{{"code", 0}, {"late", true}}); });
    });
    // Chained: pass the payload on, as a notify, to the route it names.
    handle("chain", [](nanocaf::session& s, const json& j) {
      s.rpc(j.at("route").get<std::string>(), j.at("body"));
    });
    handle("pushback", [](nanocaf::session& s, const json& j) { s.push("onChained", j); });
    handle("pushwhere", [this](nanocaf::session& s, const nanocaf::bytes&) {
      s.push("onWhere", json{{"node", address_}});
    });
    // Request/reply to another route (our extension), answered with what came back.
    handle("ask", [this](nanocaf::session& s, const json& j) {
      auto mid = s.last_mid();
      auto done = [s, mid](const nanocaf::call_reply& r) {
        s.response_to(mid, json{{"code", r.code}, {"error", r.error}, {"data", r.data}});
      };
      auto route = j.at("route").get<std::string>();
      if (j.value("for_client", false))
        call(s, route, j.at("body"), std::chrono::seconds(2), done);
      else
        call(route, j.at("body"), std::chrono::seconds(2), done);
    });
    // A call for the client to a handler that changes its state: the callback reads it here.
    handle("callset", [this](nanocaf::session& s, const json& j) {
      auto mid = s.last_mid();
      auto key = j.at("k").get<std::string>();
      call(s, j.at("route").get<std::string>(), json{{"k", key}, {"v", j.at("v")}},
           std::chrono::seconds(2), [s, mid, key](const nanocaf::call_reply& r) {
             s.response_to(mid, json{{"code", r.code}, {"seen", s.value(key)}});
           });
    });
    handle("join", [this](nanocaf::session& s, const nanocaf::bytes&) {
      room_.add(s);
      return json{{"members", room_.count()}};
    });
    handle("broadcast", [this](nanocaf::session&, const json& j) {
      room_.broadcast("onBroadcast", j);
      return json{{"code", 0}};
    });
    handle("members", [this](nanocaf::session&, const nanocaf::bytes&) {
      std::vector<std::string> services;
      for (auto& m : (*cluster_)->members())
        for (auto& svc : m.services)
          services.push_back(svc);
      std::sort(services.begin(), services.end());
      return json{{"services", services}, {"remote_sessions", (*cluster_)->remote_sessions()}};
    });
  }

  void after_init() override {
    on_session_closed([this](const nanocaf::session& s) { room_.leave(s); });
  }

private:
  nanocaf::cluster::node** cluster_;
  std::string address_;
  nanocaf::group room_{"room"};
};

int run(const nanocaf::apps::flags& f); // the node, from start to stop

} // namespace

int main(int argc, char** argv) {
  nanocaf::block_shutdown_signals();
  nanocaf::apps::flags f{"cluster-test-node"};
  f.add("role", "member", "master or member")
    .add("service", "", "name of this node's service")
    .add("listen", "", "gRPC address")
    .add("master", "", "master's gRPC address")
    .add("tcp", "", "client TCP address (a gate)")
    // Fast enough for quick eviction tests, loose enough for ASan builds on a busy machine.
    .add("heartbeat", "0.25", "member heartbeat in seconds")
    .add("misses", "6", "silent heartbeat periods before eviction")
    .add("scheduler", "auto", "CAF scheduler policy: auto, sharing, io or stealing")
    .add("error-replies", "true", "answer failed requests with {\"code\",\"error\"} (false: nano's silence)")
    .add("route-service", "", "with --route-key: the service routed by key")
    .add("route-key", "", "route the --route-service's messages by this JSON field (route_by_key)");
  nanocaf::apps::add_cluster_security_flags(f);
  nanocaf::apps::add_ops_flags(f);
  int code = 0;
  if (!f.parse(argc, argv, code))
    return code;
  if (!nanocaf::apps::init_logging(f))
    return 2;
  try {
    return run(f);
  } catch (const std::exception& e) { // a port already taken, unreadable TLS files, ...
    std::cerr << "cluster-test-node: " << e.what() << std::endl;
    return 1;
  }
}

namespace {

int run(const nanocaf::apps::flags& f) {
  nanocaf::runtime_options ro;
  ro.node_id = static_cast<std::uint16_t>(nanocaf::split_host_port(f.get("listen")).second % 1024);
  ro.worker_threads = 2;
  ro.scheduler_policy = f.get("scheduler");
  ro.error_replies = f.boolean("error-replies");
  ro.rate_limit = 0; // the cluster suite floods on purpose
  ro.fanout_limit = 0;
  nanocaf::runtime rt{ro};
  nanocaf::cluster::node* cluster_ptr = nullptr;
  rt.add(std::make_shared<probe>(&cluster_ptr, f.get("listen")), nanocaf::with_name(f.get("service")));
  nanocaf::cluster::options opts;
  opts.is_master = f.get("role") == "master";
  opts.service_address = f.get("listen");
  opts.master_address = opts.is_master ? "" : f.get("master");
  opts.heartbeat = std::chrono::milliseconds(static_cast<long>(f.number("heartbeat") * 1000));
  opts.retry_interval = opts.heartbeat;
  opts.eviction_misses = static_cast<unsigned>(f.number("misses"));
  opts.rpc_timeout = std::chrono::seconds(1);
  // A gate tells its clients when a node that served them is lost.
  opts.on_node_lost = [](const nanocaf::session& s, const nanocaf::cluster::member_info& node) {
    s.push("onNodeLost", json{{"label", node.label}, {"services", node.services}});
  };
  if (!f.get("route-key").empty()) // route "<service>" messages by this JSON field
    opts.route = nanocaf::cluster::route_by_key(
      nanocaf::cluster::json_field({{f.get("route-service"), f.get("route-key")}}));
  nanocaf::apps::apply_cluster_security_flags(f, opts);
  nanocaf::cluster::node cluster{rt, opts};
  cluster_ptr = &cluster;
  rt.start();
  cluster.start();
  auto metrics = nanocaf::apps::start_metrics(f, rt);
  std::unique_ptr<nanocaf::gateway> gate;
  if (!f.get("tcp").empty()) {
    nanocaf::gateway_options gw;
    gw.tcp_address = f.get("tcp");
    gate = std::make_unique<nanocaf::gateway>(rt, gw);
    gate->start();
  }
  std::cout << "ready" << std::endl;
  nanocaf::wait_for_shutdown_signal();
  nanocaf::log::debug("told to stop");
  if (gate)
    gate->stop();
  cluster.stop();
  nanocaf::log::debug("cluster stopped");
  rt.stop();
  nanocaf::log::debug("runtime stopped");
  return 0;
}

} // namespace
