// The server address the client tools take: tcp://host:port, ws://host:port/path, and their
// TLS forms tls:// and wss:// (the path defaults to nano's /nano).
#pragma once

#include <string>

namespace nanocaf::apps {

struct client_url {
  std::string scheme; // tcp, ws, tls or wss
  std::string host;
  std::string port;
  std::string path = "/nano";

  bool websocket() const { return scheme == "ws" || scheme == "wss"; }
  bool tls() const { return scheme == "tls" || scheme == "wss"; }
};

/// Throws std::invalid_argument with a readable reason for anything else.
client_url parse_client_url(const std::string& url);

} // namespace nanocaf::apps
