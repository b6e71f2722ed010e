// The cluster flags every node app shares, and the options they make.
#pragma once

#include <nanocaf/cluster/cluster.hpp>

#include "cluster_secret.hpp"
#include "flags.hpp"

namespace nanocaf::apps {

/// --secret, --secret-file, --nano-cluster, --cluster-tls-cert, --cluster-tls-key,
/// --cluster-tls-ca. By default every node uses the secret of the default secret file (made on
/// first use); --nano-cluster 1 runs without one, as nano, for clusters with nano's Go nodes.
inline void add_cluster_security_flags(flags& f) {
  f.add("secret", "", "cluster secret every node must send (default: the one in --secret-file)")
    .add("secret-file", "auto", "file holding the cluster secret, made with a random one if missing (auto: " + default_secret_file() + ")")
    .add("nano-cluster", "false", "1: the cluster has nano's Go nodes, so no secret: then ANYONE who can reach a node's gRPC port can join as a member, receive and answer clients' requests, push to or kick any client and call any handler")
    .add("cluster-tls-cert", "", "gRPC TLS: this node's certificate (PEM); with --cluster-tls-key and --cluster-tls-ca")
    .add("cluster-tls-key", "", "gRPC TLS: this node's private key (PEM)")
    .add("cluster-tls-ca", "", "gRPC TLS: CA that signed every node's certificate (PEM)");
}

inline void apply_cluster_security_flags(const flags& f, cluster::options& o) {
  o.secret = cluster_secret(f.get("secret"), f.boolean("nano-cluster"), f.get("secret-file"));
  o.tls.cert = f.get("cluster-tls-cert");
  o.tls.key = f.get("cluster-tls-key");
  o.tls.ca = f.get("cluster-tls-ca");
}

inline void add_cluster_flags(flags& f, const std::string& listen_default) {
  f.add("listen", listen_default, "this node's gRPC address (host:port)")
    .add("master", "127.0.0.1:34567", "the master's gRPC address")
    .add("label", "", "free-form label in this node's member info")
    .add("member-heartbeat", "1", "member -> master heartbeat period in seconds; a dead member is evicted after --eviction-misses periods (4-5 s by default)")
    .add("eviction-misses", "4", "heartbeat periods without a heartbeat before eviction")
    .add("rpc-timeout", "3", "deadline of node-to-node calls in seconds")
    .add("cluster-batches", "1", "1: messages to nanocaf nodes in batches; 0: one gRPC call each, as nano");
  add_cluster_security_flags(f);
}

inline cluster::options cluster_options_from(const flags& f, bool is_master) {
  cluster::options o;
  o.service_address = f.get("listen");
  o.master_address = is_master ? std::string{} : f.get("master");
  o.is_master = is_master;
  o.label = f.get("label");
  o.heartbeat = std::chrono::milliseconds(static_cast<long>(f.number("member-heartbeat") * 1000));
  o.eviction_misses = static_cast<unsigned>(f.number("eviction-misses"));
  o.rpc_timeout = std::chrono::milliseconds(static_cast<long>(f.number("rpc-timeout") * 1000));
  o.retry_interval = o.heartbeat;
  o.batches = f.number("cluster-batches") != 0;
  apply_cluster_security_flags(f, o);
  return o;
}

} // namespace nanocaf::apps
