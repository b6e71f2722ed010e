// How one node's gRPC traffic is protected: credentials for its server and its channels (TLS
// or nano's insecure default), and the cluster secret it adds to calls and checks on arrival.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "nanocaf/cluster/cluster.hpp"

namespace nanocaf::cluster::detail {

/// The gRPC metadata key of the cluster secret.
inline constexpr const char* secret_metadata_key = "nanocaf-cluster-secret";

class node_security {
public:
  /// Reads the TLS files; throws std::runtime_error naming a file that cannot be read or an
  /// incomplete set (cert, key and ca go together).
  explicit node_security(const options& opts);

  std::shared_ptr<grpc::ServerCredentials> server_credentials() const;
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials() const;
  /// Adds the secret (if any) to an outgoing call.
  void sign(grpc::ClientContext& ctx) const;
  /// nullopt when the caller may proceed; otherwise the status to refuse it with.
  std::optional<grpc::Status> check(const grpc::CallbackServerContext* ctx) const;
  bool tls() const noexcept { return !cert_.empty(); }

private:
  std::string secret_;
  std::string cert_, key_, ca_;
};

} // namespace nanocaf::cluster::detail
