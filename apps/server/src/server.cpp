#include "nanocaf/server.hpp"

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>

#include "nanocaf/gateway/metrics_endpoint.hpp"
#include "nanocaf/gateway/signals.hpp"
#include "nanocaf/log.hpp"
#include "server_flags.hpp"

namespace nanocaf {

struct server::impl {
  server_options options;
  server_detail::flag_values values;
  CLI::App app;
  bool parsed = false;
  std::vector<std::pair<std::shared_ptr<component>, component_options>> components;
  std::vector<std::function<void(server&)>> started_hooks;
  // Created by start, in this order, destroyed in the reverse one.
  std::unique_ptr<runtime> rt;
  std::unique_ptr<cluster::node> cluster;
  std::unique_ptr<gateway> gate;
  std::unique_ptr<metrics_endpoint> metrics;
  bool running = false;

  impl(server_options o, std::string summary)
    : options(std::move(o)), app(std::move(summary)) {
    server_detail::declare_flags(app, options, values);
  }
};

server::server(server_options defaults, std::string summary) {
  block_shutdown_signals(); // before the runtime's threads exist: they inherit the mask
  impl_ = std::make_unique<impl>(std::move(defaults), std::move(summary));
}

server::~server() {
  try {
    stop();
  } catch (const std::exception& e) {
    log::error("server: stop failed: ", e.what());
  }
}

CLI::App& server::flags() { return impl_->app; }

namespace {

// A boolean flag may stand alone (`--nano-cluster`) or take a value (`--nano-cluster false`,
// `--nano-cluster=1`); CLI11 reads a lone one as false, so it gets its `true` here.
std::vector<std::string> with_bare_booleans(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool next_is_value = i + 1 < argc && std::string{argv[i + 1]}.rfind("--", 0) != 0;
    if (arg.rfind("--", 0) == 0 && arg.find('=') == std::string::npos && !next_is_value)
      if (auto* opt = app.get_option_no_throw(arg); opt && opt->get_type_name() == "BOOLEAN")
        arg += "=true";
    args.push_back(std::move(arg));
  }
  std::reverse(args.begin(), args.end()); // CLI11 takes them last first
  return args;
}

} // namespace

std::optional<int> server::parse(int argc, char** argv) {
  try {
    impl_->app.name(argc > 0 ? argv[0] : "server");
    auto args = with_bare_booleans(impl_->app, argc, argv);
    impl_->app.parse(args);
    server_detail::apply_flags(impl_->values, impl_->options);
    server_detail::apply_logging(impl_->values);
  } catch (const CLI::CallForHelp&) {
    std::cout << impl_->app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    return impl_->app.exit(e) == 0 ? 0 : 2;
  } catch (const std::exception& e) { // a bad value, an unreadable secret file or log file
    std::cerr << (argc > 0 ? argv[0] : "server") << ": " << e.what() << "\n";
    return 2;
  }
  impl_->parsed = true;
  return std::nullopt;
}

server_options& server::options() noexcept { return impl_->options; }

void server::add(std::shared_ptr<component> c, component_options options) {
  if (impl_->rt)
    impl_->rt->add(std::move(c), std::move(options));
  else
    impl_->components.emplace_back(std::move(c), std::move(options));
}

void server::on_started(std::function<void(server&)> fn) { impl_->started_hooks.push_back(std::move(fn)); }

void server::start() {
  auto& d = *impl_;
  if (d.running)
    return;
  if (!d.parsed) // options from code only: the flags' defaults still need applying
    server_detail::apply_flags(d.values, d.options);
  d.rt = std::make_unique<runtime>(d.options.runtime);
  for (auto& [c, o] : d.components)
    d.rt->add(std::move(c), std::move(o));
  d.components.clear();
  // The cluster installs itself into the runtime before it starts (cluster::node's rule).
  if (d.options.cluster)
    d.cluster = std::make_unique<cluster::node>(*d.rt, *d.options.cluster);
  d.rt->start();
  d.running = true;
  if (d.cluster)
    d.cluster->start();
  if (!d.options.gateway.tcp_address.empty() || !d.options.gateway.ws_address.empty()) {
    d.gate = std::make_unique<gateway>(*d.rt, d.options.gateway);
    d.gate->start();
  }
  if (!d.options.metrics_address.empty()) {
    d.metrics = std::make_unique<metrics_endpoint>(d.rt->metrics(), d.options.metrics_address);
    d.metrics->start();
  }
  for (auto& hook : d.started_hooks)
    hook(*this);
}

void server::stop() {
  auto& d = *impl_;
  if (!d.running)
    return;
  d.running = false;
  if (d.gate)
    d.gate->stop(d.options.shutdown_reason); // clients kicked with the reason, first
  if (d.cluster)
    d.cluster->stop(); // unregister, then answer what other nodes sent
  if (d.metrics)
    d.metrics->stop();
  d.rt->stop();
  d.metrics.reset();
  d.gate.reset();
  d.cluster.reset();
}

int server::run(int argc, char** argv) {
  if (auto code = parse(argc, argv))
    return *code;
  return run();
}

int server::run() {
  try {
    start();
  } catch (const std::exception& e) {
    log::error("server: cannot start: ", e.what());
    std::cerr << "cannot start: " << e.what() << "\n";
    try {
      stop();
    } catch (...) {
    }
    return 1;
  }
  int sig = wait_for_shutdown_signal();
  log::info("signal ", sig, ": stopping");
  stop();
  return 0;
}

runtime& server::rt() {
  if (!impl_->rt)
    throw std::logic_error("server::rt() before start()");
  return *impl_->rt;
}

cluster::node* server::cluster_node() noexcept { return impl_->cluster.get(); }
gateway* server::client_gateway() noexcept { return impl_->gate.get(); }
std::uint16_t server::metrics_port() const noexcept {
  return impl_->metrics ? impl_->metrics->port() : 0;
}

} // namespace nanocaf
