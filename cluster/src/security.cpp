#include "detail/security.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nanocaf::cluster::detail {

namespace {

std::string read_pem(const std::string& path, const char* what) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error(std::string{"cluster TLS: cannot read the "} + what + " file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Compares in time independent of where the strings first differ.
bool same_secret(std::string_view given, const std::string& expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (std::size_t i = 0; i < expected.size(); ++i)
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  return diff == 0;
}

} // namespace

node_security::node_security(const options& opts) : secret_(opts.secret) {
  auto& t = opts.tls;
  bool any = !t.cert.empty() || !t.key.empty() || !t.ca.empty();
  if (!any)
    return;
  if (t.cert.empty() || t.key.empty() || t.ca.empty())
    throw std::runtime_error("cluster TLS needs a certificate, its key and a CA file together");
  cert_ = read_pem(t.cert, "certificate");
  key_ = read_pem(t.key, "key");
  ca_ = read_pem(t.ca, "CA");
}

std::shared_ptr<grpc::ServerCredentials> node_security::server_credentials() const {
  if (!tls())
    return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions o{GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY};
  o.pem_root_certs = ca_;
  o.pem_key_cert_pairs.push_back({key_, cert_});
  return grpc::SslServerCredentials(o);
}

std::shared_ptr<grpc::ChannelCredentials> node_security::channel_credentials() const {
  if (!tls())
    return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = ca_;
  o.pem_private_key = key_;
  o.pem_cert_chain = cert_;
  return grpc::SslCredentials(o);
}

void node_security::sign(grpc::ClientContext& ctx) const {
  if (!secret_.empty())
    ctx.AddMetadata(secret_metadata_key, secret_);
}

std::optional<grpc::Status> node_security::check(const grpc::CallbackServerContext* ctx) const {
  if (secret_.empty())
    return std::nullopt;
  auto& md = ctx->client_metadata();
  auto i = md.find(secret_metadata_key);
  if (i != md.end() && same_secret({i->second.data(), i->second.size()}, secret_))
    return std::nullopt;
  return grpc::Status{grpc::StatusCode::UNAUTHENTICATED,
                      i == md.end() ? "this cluster requires a secret (nanocaf-cluster-secret)"
                                    : "wrong cluster secret"};
}

} // namespace nanocaf::cluster::detail
