#include "support/http_get.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>

namespace nanocaf::test {

namespace {

// The Content-Length of a response's headers, 0 if absent.
std::size_t content_length(const std::string& headers) {
  std::string lower;
  for (char c : headers)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  auto at = lower.find("\r\ncontent-length:");
  return at == std::string::npos ? 0 : std::stoul(headers.substr(at + 17));
}

} // namespace

http_reply http_exchange(std::uint16_t port, const std::string& request) {
  http_reply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return reply;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL)
      != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return reply;
  }
  std::string raw;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  char buf[16384];
  for (;;) {
    auto end = raw.find("\r\n\r\n");
    if (end != std::string::npos) {
      bool upgrade = raw.rfind("HTTP/1.1 101", 0) == 0;
      if (upgrade || raw.size() >= end + 4 + content_length(raw.substr(0, end)))
        break; // the whole response (a keep-alive server does not close)
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0)
      break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos)
    return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.headers = raw.substr(0, end);
  reply.body = raw.substr(end + 4);
  return reply;
}

http_reply http_get(std::uint16_t port, const std::string& path) {
  return http_exchange(port, "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

} // namespace nanocaf::test
