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

} // namespace nanocaf::test
