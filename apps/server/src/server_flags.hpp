// The flags of every nanocaf server (the bundled programs' and users' alike): one declaration
// per option, bound to the options the code gave, so that --help shows those as defaults and
// the --config file and the command line override them in that order.
#pragma once

#include <CLI/CLI.hpp>

#include "nanocaf/server.hpp"

namespace nanocaf::server_detail {

/// What flags set that is not a field of server_options as it is (seconds, lists, switches).
struct flag_values {
  std::string log_level = "info";
  std::string log_file;
  double heartbeat = 0, handshake_timeout = 0, http_timeout = 0;
  std::string serializer = "json";
  unsigned node_id = 0;
  std::string min_client_version;
  std::string origins;
  std::string listen, master = "127.0.0.1:34567", label;
  bool is_master = false;
  double member_heartbeat = 1, rpc_timeout = 3, drain_timeout = 5;
  unsigned eviction_misses = 4;
  bool cluster_batches = true;
  std::string secret, secret_file = "auto";
  bool nano_cluster = false;
  std::string tls_cert, tls_key, tls_ca;
};

/// Declares every flag on `app`, bound to `o` and `v` (whose current values are the defaults).
void declare_flags(CLI::App& app, server_options& o, flag_values& v);

/// Moves what `v` holds into `o` after parsing: durations, the serializer, origins, the
/// cluster (when --listen or the code asked for one) and its secret. Throws
/// std::invalid_argument for a bad value, std::runtime_error when the secret file fails.
void apply_flags(const flag_values& v, server_options& o);

/// Configures logging from --log-level and --log-file; throws on a bad level or file.
void apply_logging(const flag_values& v);

} // namespace nanocaf::server_detail
