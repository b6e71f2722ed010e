#include "node_flags.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

#include <nanocaf/log.hpp>
#include <nanocaf/validators.hpp>

namespace nanocaf::apps {

namespace {

std::chrono::milliseconds seconds_flag(const flags& f, const std::string& name) {
  return std::chrono::milliseconds(static_cast<long>(f.number(name) * 1000));
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

} // namespace

void add_ops_flags(flags& f, const std::string& log_level_default) {
  f.add("log-level", log_level_default, "debug, info, warn, error or off")
    .add("log-file", "", "log to this file, rotated at 64 MiB (empty: stderr)")
    .add("metrics", "", "serve Prometheus metrics at http://ADDRESS/metrics (host:port; empty: off)");
}

bool init_logging(const flags& f) {
  log::settings s;
  if (!log::parse_level(f.get("log-level"), s.threshold)) {
    std::cerr << "bad --log-level: " << f.get("log-level") << "\n";
    return false;
  }
  s.file = f.get("log-file");
  try {
    log::configure(s);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return false;
  }
  return true;
}

std::unique_ptr<metrics_endpoint> start_metrics(const flags& f, runtime& rt) {
  if (f.get("metrics").empty())
    return nullptr;
  auto endpoint = std::make_unique<metrics_endpoint>(rt.metrics(), f.get("metrics"));
  endpoint->start();
  return endpoint;
}

void add_runtime_flags(flags& f, const std::string& threads_default) {
  f.add("heartbeat", "30", "client heartbeat interval in seconds (clients silent 2x are dropped)")
    .add("handshake-timeout", "10", "seconds a client has to send its handshake")
    .add("serializer", "json", "payload serializer: json or protobuf")
    .add("node-id", "0", "node id in session ids, 1-1023 (0: derived; distinct per gate)")
    .add("threads", threads_default, "CAF worker threads (0: one per core)")
    .add("scheduler", "auto", "CAF scheduler policy: auto (io on one core, sharing up to 4), sharing, io or stealing")
    .add("max-inflight", "4194304", "payload bytes a session may queue for its handlers")
    .add("rate-limit", "100", "packets per second a client may send, heartbeats included (0: off, as nano)")
    .add("rate-burst", "400", "packets a client may send at once within its rate")
    .add("fanout-limit", "20000", "deliveries per second one client's broadcasts may cause (0: off)")
    .add("min-client-version", "", "refuse clients whose handshake sys.version is below this")
    .add("error-replies", "true", "answer failed requests with {\"code\",\"error\"}");
}

runtime_options runtime_options_from(const flags& f) {
  runtime_options o;
  o.heartbeat = seconds_flag(f, "heartbeat");
  o.handshake_timeout = seconds_flag(f, "handshake-timeout");
  if (f.get("serializer") == "protobuf")
    o.serializer = serializer_kind::protobuf;
  else if (f.get("serializer") != "json")
    throw std::invalid_argument("--serializer must be json or protobuf");
  if (auto id = static_cast<std::uint16_t>(f.number("node-id")); id != 0)
    o.node_id = id;
  o.worker_threads = static_cast<std::size_t>(f.number("threads"));
  o.scheduler_policy = f.get("scheduler");
  o.max_inflight_bytes = static_cast<std::size_t>(f.number("max-inflight"));
  o.rate_limit = f.number("rate-limit");
  o.rate_burst = f.number("rate-burst");
  o.fanout_limit = f.number("fanout-limit");
  if (!f.get("min-client-version").empty())
    o.validator = require_client_version(f.get("min-client-version"));
  o.error_replies = f.boolean("error-replies");
  return o;
}

void add_gateway_flags(flags& f, const gateway_defaults& defaults) {
  f.add("tcp", defaults.tcp, "TCP client address host:port (empty: off)")
    .add("ws", defaults.ws, "WebSocket client (and web page) address host:port (empty: off)")
    .add("path", "/nano", "WebSocket path")
    .add("origins", "", "comma-separated Origin values allowed to upgrade (empty: any)")
    .add("io-threads", "1", "Asio threads")
    .add("write-queue", "4194304", "bytes a connection may have queued before it is closed")
    .add("max-packet", "65536", "largest packet body accepted from a client")
    .add("max-ws-message", "1048576", "largest WebSocket message accepted from a client")
    .add("http-timeout", "10", "seconds an HTTP request or upgrade has to arrive")
    .add("max-connections", "0", "open client connections beyond this are refused (0: no limit)")
    .add("tls-cert", "", "client TLS: certificate (PEM); TCP becomes TLS, WebSocket becomes WSS")
    .add("tls-key", "", "client TLS: private key (PEM)");
}

gateway_options gateway_options_from(const flags& f) {
  gateway_options o;
  o.tcp_address = f.get("tcp");
  o.ws_address = f.get("ws");
  o.ws_path = f.get("path");
  if (auto origins = split_list(f.get("origins")); !origins.empty())
    o.check_origin = [origins](std::string_view origin) {
      return std::find(origins.begin(), origins.end(), origin) != origins.end();
    };
  o.io_threads = static_cast<std::size_t>(f.number("io-threads"));
  o.write_queue_limit = static_cast<std::size_t>(f.number("write-queue"));
  o.max_packet_body = static_cast<std::size_t>(f.number("max-packet"));
  o.max_ws_message = static_cast<std::size_t>(f.number("max-ws-message"));
  o.http_timeout = seconds_flag(f, "http-timeout");
  o.max_connections = static_cast<std::size_t>(f.number("max-connections"));
  o.tls_cert = f.get("tls-cert");
  o.tls_key = f.get("tls-key");
  return o;
}

} // namespace nanocaf::apps
