#include "client_url.hpp"

#include <stdexcept>

namespace nanocaf::apps {

client_url parse_client_url(const std::string& url) {
  auto sep = url.find("://");
  if (sep == std::string::npos)
    throw std::invalid_argument("address must be tcp|tls://host:port or ws|wss://host:port/path: "
                                + url);
  client_url u;
  u.scheme = url.substr(0, sep);
  if (u.scheme != "tcp" && u.scheme != "ws" && u.scheme != "tls" && u.scheme != "wss")
    throw std::invalid_argument("unknown scheme " + u.scheme + " (tcp, ws, tls or wss)");
  auto rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  if (slash != std::string::npos)
    u.path = rest.substr(slash);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos || colon + 1 == hostport.size())
    throw std::invalid_argument("address has no port: " + url);
  u.host = hostport.substr(0, colon);
  u.port = hostport.substr(colon + 1);
  return u;
}

} // namespace nanocaf::apps
