// nanocaf::server: one object that owns a node's runtime, client gateway and, when configured,
// its cluster membership and metrics endpoint; knows their start and stop order; reads its
// options from code, a --config file and the command line (flags win); and stops gracefully
// on SIGINT/SIGTERM.
//
//   int main(int argc, char** argv) {
//     nanocaf::server srv;
//     srv.add<room>(nanocaf::with_name("room"));
//     return srv.run(argc, argv);
//   }
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nanocaf/cluster/cluster.hpp>
#include <nanocaf/gateway/gateway.hpp>
#include <nanocaf/runtime.hpp>

namespace CLI {
class App;
}

namespace nanocaf {

/// WebSocket clients (and the web folder) on nano's usual 127.0.0.1:3250.
inline gateway_options default_client_gateway() {
  gateway_options o;
  o.ws_address = "127.0.0.1:3250";
  return o;
}

struct server_options {
  runtime_options runtime;
  /// Clients: gateway.tcp_address and/or gateway.ws_address (--tcp, --ws); both empty: no
  /// clients on this node (a backend, a master).
  gateway_options gateway = default_client_gateway();
  /// Set (with service_address, and master_address or is_master) to join a cluster; --listen
  /// sets it from the command line. Without it the node is alone.
  std::optional<cluster::options> cluster;
  /// Prometheus metrics at http://ADDRESS/metrics (--metrics; empty: none).
  std::string metrics_address;
  /// The kick reason clients read when the server stops.
  std::string shutdown_reason = "server shutdown";
  /// Defaults of --log-level (debug, info, warn, error, off) and --log-file (empty: stderr).
  std::string log_level = "info";
  std::string log_file;
};

class server {
public:
  /// `defaults`: the options in code; flags and the --config file override them when the
  /// server is given argv (parse, run(argc, argv)). Blocks SIGINT and SIGTERM in this thread
  /// and those it starts: construct it first thing in main, before any other thread.
  explicit server(server_options defaults = {}, std::string summary = "");
  /// Stops if still running.
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The command line, to add a program's own flags before parse (CLI11's CLI::App: include
  /// <CLI/CLI.hpp>; Debian's libcli11-dev). Its --help lists them with the server's own.
  CLI::App& flags();

  /// Reads --config FILE (a JSON object whose keys are flag names) then the command line into
  /// the options. Returns an exit code when the program should end now: 0 after --help, 2
  /// after a bad flag (with a message); otherwise nothing.
  std::optional<int> parse(int argc, char** argv);

  /// The options (after parse: with flags and config applied); change them before start.
  server_options& options() noexcept;

  /// Adds a component, as runtime::add; it is created now and hosted from start on.
  template <class C, class... Ts>
  std::shared_ptr<C> add(component_options options = {}, Ts&&... xs) {
    auto c = std::make_shared<C>(std::forward<Ts>(xs)...);
    add(c, std::move(options));
    return c;
  }
  void add(std::shared_ptr<component> c, component_options options = {});

  /// Runs `fn` once the node serves (runtime, cluster, gateway and metrics started), on the
  /// starting thread.
  void on_started(std::function<void(server&)> fn);

  /// Starts the runtime, then the cluster membership, then the gateway, then metrics. Throws
  /// std::runtime_error (an address taken, bad TLS files, a failing component init).
  void start();
  /// Stops in the reverse order: clients are kicked with shutdown_reason, the node
  /// unregisters and drains, then the runtime stops. Idempotent.
  void stop();
  /// parse (when given argv), start, wait for SIGINT or SIGTERM, stop. Returns main's exit
  /// code: 0, 2 for bad flags, 1 when the server could not start (logged).
  int run();
  int run(int argc, char** argv);

  /// After start.
  runtime& rt();
  /// After start; null when the node is alone.
  cluster::node* cluster_node() noexcept;
  /// After start; null without clients.
  nanocaf::gateway* client_gateway() noexcept;
  /// The port metrics are served on (after start; 0 without).
  std::uint16_t metrics_port() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace nanocaf
