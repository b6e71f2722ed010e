#include "server_flags.hpp"

#include <algorithm>
#include <sstream>

#include "cluster_secret.hpp"
#include "json_config.hpp"
#include "nanocaf/log.hpp"
#include "nanocaf/validators.hpp"

namespace nanocaf::server_detail {

namespace {

double seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000; }

std::chrono::milliseconds from_seconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

void declare_runtime(CLI::App& app, runtime_options& r, flag_values& v) {
  const char* g = "Runtime";
  v.heartbeat = seconds(r.heartbeat);
  v.handshake_timeout = seconds(r.handshake_timeout);
  v.serializer = r.serializer == serializer_kind::protobuf ? "protobuf" : "json";
  app.add_option("--heartbeat", v.heartbeat, "client heartbeat interval in seconds (clients silent 2.5x are dropped)")->group(g)->capture_default_str();
  app.add_option("--handshake-timeout", v.handshake_timeout, "seconds a client has to complete its handshake")->group(g)->capture_default_str();
  app.add_option("--serializer", v.serializer, "payload serializer: json or protobuf")->group(g)->capture_default_str();
  v.node_id = r.node_id.value_or(0);
  app.add_option("--node-id", v.node_id, "node id in session ids, 1-1023 (distinct per gate; default: from the port)")->group(g);
  app.add_option("--threads", r.worker_threads, "CAF worker threads (0: one per core)")->group(g)->capture_default_str();
  app.add_option("--scheduler", r.scheduler_policy, "CAF scheduler policy: auto, sharing, io or stealing")->group(g)->capture_default_str();
  app.add_option("--max-inflight", r.max_inflight_bytes, "payload bytes a session may queue for its handlers")->group(g)->capture_default_str();
  app.add_option("--rate-limit", r.rate_limit, "packets per second a client may send, heartbeats included (0: off, as nano)")->group(g)->capture_default_str();
  app.add_option("--rate-burst", r.rate_burst, "packets a client may send at once within its rate")->group(g)->capture_default_str();
  app.add_option("--fanout-limit", r.fanout_limit, "deliveries per second one client's broadcasts may cause (0: off)")->group(g)->capture_default_str();
  app.add_option("--max-client-state", r.max_client_state, "bytes of one client's state (session::set)")->group(g)->capture_default_str();
  app.add_option("--min-client-version", v.min_client_version, "refuse clients whose handshake sys.version is below this")->group(g);
  app.add_option("--error-replies", r.error_replies, "answer failed requests with {\"code\",\"error\"} (false: nano's silence)")->group(g)->capture_default_str();
}

void declare_gateway(CLI::App& app, gateway_options& gw, flag_values& v) {
  const char* g = "Clients";
  v.http_timeout = seconds(gw.http_timeout);
  app.add_option("--tcp", gw.tcp_address, "TCP client address host:port (empty: off)")->group(g)->capture_default_str();
  app.add_option("--ws", gw.ws_address, "WebSocket client (and web page) address host:port (empty: off)")->group(g)->capture_default_str();
  app.add_option("--path", gw.ws_path, "WebSocket path")->group(g)->capture_default_str();
  app.add_option("--web", gw.static_dir, "folder served over HTTP at /web/ on the WebSocket port (empty: none)")->group(g)->capture_default_str();
  app.add_option("--origins", v.origins, "comma-separated Origin values allowed to upgrade (empty: any)")->group(g);
  app.add_option("--io-threads", gw.io_threads, "Asio threads")->group(g)->capture_default_str();
  app.add_option("--write-queue", gw.write_queue_limit, "bytes a connection may have queued before it is closed")->group(g)->capture_default_str();
  app.add_option("--max-packet", gw.max_packet_body, "largest packet body accepted from a client")->group(g)->capture_default_str();
  app.add_option("--max-ws-message", gw.max_ws_message, "largest WebSocket message accepted from a client")->group(g)->capture_default_str();
  app.add_option("--http-timeout", v.http_timeout, "seconds an HTTP request or upgrade has to arrive")->group(g)->capture_default_str();
  app.add_option("--max-connections", gw.max_connections, "open client connections beyond this are refused (0: no limit)")->group(g)->capture_default_str();
  app.add_option("--tls-cert", gw.tls_cert, "client TLS: certificate (PEM); TCP becomes TLS, WebSocket becomes WSS")->group(g);
  app.add_option("--tls-key", gw.tls_key, "client TLS: private key (PEM)")->group(g);
}

void declare_cluster(CLI::App& app, const std::optional<cluster::options>& c, flag_values& v) {
  const char* g = "Cluster";
  if (c) {
    v.listen = c->service_address;
    v.master = c->master_address.empty() ? v.master : c->master_address;
    v.is_master = c->is_master;
    v.label = c->label;
    v.member_heartbeat = seconds(c->heartbeat);
    v.eviction_misses = c->eviction_misses;
    v.rpc_timeout = seconds(c->rpc_timeout);
    v.drain_timeout = seconds(c->drain_timeout);
    v.cluster_batches = c->batches;
    v.tls_cert = c->tls.cert;
    v.tls_key = c->tls.key;
    v.tls_ca = c->tls.ca;
  }
  app.add_option("--listen", v.listen, "this node's gRPC address host:port: joins the cluster (empty: alone)")->group(g)->capture_default_str();
  app.add_option("--master", v.master, "the master's gRPC address")->group(g)->capture_default_str();
  app.add_option("--is-master", v.is_master, "this node is the master")->group(g)->capture_default_str();
  app.add_option("--label", v.label, "free-form label in this node's member info")->group(g);
  app.add_option("--member-heartbeat", v.member_heartbeat, "member -> master heartbeat period in seconds")->group(g)->capture_default_str();
  app.add_option("--eviction-misses", v.eviction_misses, "heartbeat periods without a heartbeat before eviction")->group(g)->capture_default_str();
  app.add_option("--rpc-timeout", v.rpc_timeout, "deadline of node-to-node calls in seconds")->group(g)->capture_default_str();
  app.add_option("--drain-timeout", v.drain_timeout, "seconds a stopping node waits for the requests it holds")->group(g)->capture_default_str();
  app.add_option("--cluster-batches", v.cluster_batches, "messages to nanocaf nodes in batches (false: one gRPC call each, as nano)")->group(g)->capture_default_str();
  app.add_option("--secret", v.secret, "cluster secret every node must send (default: the one in --secret-file)")->group(g);
  app.add_option("--secret-file", v.secret_file, "file holding the cluster secret, made with a random one if missing (auto: " + apps::default_secret_file() + ")")->group(g)->capture_default_str();
  app.add_option("--nano-cluster", v.nano_cluster, "the cluster has nano's Go nodes, so no secret: then ANYONE who can reach a node's gRPC port can join as a member, receive and answer clients' requests, push to or kick any client and call any handler")->group(g)->capture_default_str();
  app.add_option("--cluster-tls-cert", v.tls_cert, "gRPC TLS: this node's certificate (PEM); with --cluster-tls-key and --cluster-tls-ca")->group(g);
  app.add_option("--cluster-tls-key", v.tls_key, "gRPC TLS: this node's private key (PEM)")->group(g);
  app.add_option("--cluster-tls-ca", v.tls_ca, "gRPC TLS: CA that signed every node's certificate (PEM)")->group(g);
}

} // namespace

void declare_flags(CLI::App& app, server_options& o, flag_values& v) {
  app.config_formatter(std::make_shared<json_config>());
  app.set_config("--config", "", "JSON file with flag values, keys as flag names (flags on the command line win)");
  app.allow_config_extras(false);
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast); // the last wins
  app.get_formatter()->column_width(32);
  const char* g = "Operations";
  v.log_level = o.log_level;
  v.log_file = o.log_file;
  app.add_option("--log-level", v.log_level, "debug, info, warn, error or off")->group(g)->capture_default_str();
  app.add_option("--log-file", v.log_file, "log to this file, rotated at 64 MiB (empty: stderr)")->group(g);
  app.add_option("--metrics", o.metrics_address, "serve Prometheus metrics at http://ADDRESS/metrics (empty: off)")->group(g);
  declare_runtime(app, o.runtime, v);
  declare_gateway(app, o.gateway, v);
  declare_cluster(app, o.cluster, v);
}

void apply_flags(const flag_values& v, server_options& o) {
  auto& r = o.runtime;
  r.heartbeat = from_seconds(v.heartbeat);
  r.handshake_timeout = from_seconds(v.handshake_timeout);
  if (v.serializer == "protobuf")
    r.serializer = serializer_kind::protobuf;
  else if (v.serializer == "json")
    r.serializer = serializer_kind::json;
  else
    throw std::invalid_argument("--serializer must be json or protobuf");
  if (v.node_id != 0)
    r.node_id = static_cast<std::uint16_t>(v.node_id);
  if (!v.min_client_version.empty())
    r.validator = require_client_version(v.min_client_version);
  auto& gw = o.gateway;
  gw.http_timeout = from_seconds(v.http_timeout);
  if (auto origins = split_list(v.origins); !origins.empty())
    gw.check_origin = [origins](std::string_view origin) {
      return std::find(origins.begin(), origins.end(), origin) != origins.end();
    };
  if (v.listen.empty() && !(o.cluster && !o.cluster->service_address.empty())) {
    o.cluster.reset(); // alone
    return;
  }
  auto& c = o.cluster ? *o.cluster : o.cluster.emplace();
  c.service_address = v.listen;
  c.is_master = v.is_master;
  c.master_address = v.is_master ? std::string{} : v.master;
  c.label = v.label;
  c.heartbeat = from_seconds(v.member_heartbeat);
  c.retry_interval = c.heartbeat;
  c.eviction_misses = v.eviction_misses;
  c.rpc_timeout = from_seconds(v.rpc_timeout);
  c.drain_timeout = from_seconds(v.drain_timeout);
  c.batches = v.cluster_batches;
  c.tls = {v.tls_cert, v.tls_key, v.tls_ca};
  // Code may set a secret; --secret beats it; else the secret file, unless nano's Go nodes.
  if (!v.secret.empty() || c.secret.empty())
    c.secret = apps::cluster_secret(v.secret, v.nano_cluster, v.secret_file);
  // Session ids must differ across gates: derive the node id from the port by default.
  if (!r.node_id)
    r.node_id = static_cast<std::uint16_t>(split_host_port(c.service_address).second % 1024);
}

void apply_logging(const flag_values& v) {
  log::settings s;
  if (!log::parse_level(v.log_level, s.threshold))
    throw std::invalid_argument("bad --log-level: " + v.log_level);
  s.file = v.log_file;
  log::configure(s);
}

} // namespace nanocaf::server_detail
