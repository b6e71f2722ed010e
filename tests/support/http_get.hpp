// A blocking HTTP/1.1 GET over a real socket, for tests of the HTTP endpoints.
#pragma once

#include <cstdint>
#include <string>

namespace nanocaf::test {

struct http_reply {
  int status = 0; // 0: no answer
  std::string headers;
  std::string body;
};

/// GET http://127.0.0.1:port/path with Connection: close; waits up to 3 s.
http_reply http_get(std::uint16_t port, const std::string& path);

/// Sends `request` as it is and reads one response: its headers and Content-Length bytes of
/// body (none for a 101 upgrade), or what came before the server closed or 3 s passed.
http_reply http_exchange(std::uint16_t port, const std::string& request);

} // namespace nanocaf::test
