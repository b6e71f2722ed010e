// The cluster secret of the bundled programs. Safe by default: unless told that the cluster
// has nano's Go nodes (which cannot send one), every node uses a secret, from --secret, from
// --secret-file, or from a file made on first use (one per user on a machine, so the nodes
// one user starts there agree without being told).
#pragma once

#include <string>

namespace nanocaf::apps {

/// ${XDG_CONFIG_HOME:-$HOME/.config}/nanocaf/cluster-secret
std::string default_secret_file();

/// Reads the secret in `path`; when the file does not exist, creates it (mode 0600, its
/// folder 0700) with 32 random bytes in hex, atomically, so that nodes starting together
/// agree. Throws std::runtime_error when it can do neither.
std::string read_or_create_secret(const std::string& path);

/// `secret`, else none when `nano_cluster`, else the secret in `file` ("auto": the default
/// file). Throws std::runtime_error when the file cannot be read or made.
std::string cluster_secret(const std::string& secret, bool nano_cluster, const std::string& file);

} // namespace nanocaf::apps
