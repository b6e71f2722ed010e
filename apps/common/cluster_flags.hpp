// The cluster security flags of the test node (tests/cluster_node.cpp), spelled as
// nanocaf::server spells them.
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

} // namespace nanocaf::apps
